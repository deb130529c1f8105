"""Signing of outbound webhook bodies, and the pure check receivers run.

The signature covers ``"<timestamp>.<body>"`` so a captured request cannot be replayed later with a
fresh timestamp; receivers reject timestamps outside a tolerance window (default 5 minutes).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Koban-Signature"
TIMESTAMP_HEADER = "X-Koban-Timestamp"
SCHEME = "v1"


def _digest(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Koban-Signature`` header value: ``v1=<hex HMAC-SHA256 of "<timestamp>.<body>">``."""
    return f"{SCHEME}={_digest(secret, str(timestamp), body)}"


def verify_signature(
    secret: str,
    timestamp: str | None,
    body: bytes,
    header: str | None,
    now: float,
    tolerance: float = 300,
) -> bool:
    """True when ``header`` signs ``body`` at ``timestamp`` and the timestamp is within ``tolerance``
    seconds of ``now``. ``header`` may list several comma-separated ``v1=`` values (secret rotation)."""
    if not secret or not timestamp or not header:
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance:
        return False
    expected = _digest(secret, str(ts), body)
    ok = False
    for part in header.split(","):
        scheme, _, value = part.strip().partition("=")
        # Compare every candidate in constant time; don't stop early on a match.
        if scheme == SCHEME and hmac.compare_digest(value.encode(), expected.encode()):
            ok = True
    return ok
