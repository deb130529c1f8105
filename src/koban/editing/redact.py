"""Secrets in channel settings (tokens, signing secrets, passwords) never leave through the API or
the pages.

Reads show a fixed marker instead of the value; a write that sends the marker back keeps the stored
secret, so a client can GET, edit one field and PUT the object without knowing the secret.
"""

from __future__ import annotations

from typing import Any

from koban.core.sealing import is_secret_setting as _is_secret

MARKER = "********"


def redact(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            k: (MARKER if _is_secret(k, v) and v not in (None, "", [], {}) else redact(v))
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [redact(x) for x in data]
    return data


def restore(new: Any, old: Any) -> Any:
    """Put stored secrets back where a write carried the marker."""
    if isinstance(new, dict) and isinstance(old, dict):
        return {
            k: (old.get(k) if v == MARKER and k in old else restore(v, old.get(k))) for k, v in new.items()
        }
    if isinstance(new, list) and isinstance(old, list):
        return [restore(n, o) for n, o in zip(new, old, strict=False)] + new[len(old) :]
    return new
