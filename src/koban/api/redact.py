"""Secrets in channel settings (tokens, signing secrets, passwords) never leave through the API.

Reads show a fixed marker instead of the value; a write that sends the marker back keeps the stored
secret, so a client can GET, edit one field and PUT the object without knowing the secret.
"""

from __future__ import annotations

import re
from typing import Any

MARKER = "********"
# Setting names that hold credentials: auth_token(s), bot_token, signing_secret, password, api_key,
# and Slack incoming-webhook URLs (the URL itself is the credential).
_SECRET = re.compile(r"(token|secret|password|passwd|api_key|apikey|credential|private_key)", re.I)


def _is_secret(name: str, value: Any) -> bool:
    if _SECRET.search(name):
        return True
    return name in ("webhook_url", "incoming_webhook") and isinstance(value, str)


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
