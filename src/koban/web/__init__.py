"""The web UI: server-rendered pages over the same rules as the REST API (see docs/security.md)."""
