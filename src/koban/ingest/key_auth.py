"""Finding the integration key in a request: the ways monitors can send one."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping


def key_from_headers(headers: Mapping[str, str]) -> str | None:
    """``Authorization: Bearer K``, ``Authorization: Basic`` (password, or user when no password),
    or ``X-Api-Key: K``. Tools that cannot set headers put the key in the URL path instead."""
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    scheme = scheme.lower()
    if scheme in ("bearer", "token") and value.strip():
        return value.strip()
    if scheme == "basic" and value:
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return password or user or None
    api_key = headers.get("x-api-key")
    return api_key.strip() if api_key else None
