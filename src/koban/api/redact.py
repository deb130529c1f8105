"""The REST API's secret redaction is the editing capability's (``editing/redact.py``): the pages
mask and restore secrets by the same rule. Kept here under its old name for the API's callers."""

from koban.editing.redact import MARKER, redact, restore

__all__ = ["MARKER", "redact", "restore"]
