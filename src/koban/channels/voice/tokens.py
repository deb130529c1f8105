"""Signed, expiring, single-use tokens in the URLs we hand to Twilio.

Twilio fetches our TwiML from a URL we chose, so that URL must prove it came from us and may only be
used once: ``?t=<payload>.<hmac>``. The HMAC (SHA-256, key = a server secret) covers the delivery key,
the purpose (``twiml``/``gather``/``status``), an expiry and a token id. ``verify`` is pure (``now`` is
passed in); single use is koban's job through ``TokenStore.consume`` (a unique-insert of the id).

Status-callback tokens are *not* consumed: Twilio posts several callbacks to the same URL. They are
still signed and expiring, and every request is also checked with ``X-Twilio-Signature``.
Several secrets may be active (rotation): the first signs, any verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

PURPOSES = frozenset({"twiml", "gather", "status"})


class TokenError(ValueError):
    """Why a token was refused; the message is safe to log (it never contains the secret)."""


@dataclass(frozen=True, slots=True)
class Claims:
    key: str  # the delivery key (incident, step, person, attempt)
    purpose: str
    expires_at: int  # unix seconds
    token_id: str
    plays: int = 0  # times the message was already played without a key press


class TokenStore(Protocol):
    async def consume(self, token_id: str, *, expires_at: float) -> bool:
        """True the first time ``token_id`` is seen, False ever after (a replay).

        ``expires_at`` lets the store forget ids once their token could no longer verify anyway."""
        ...


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode("ascii"), hashlib.sha256).digest())


def sign(secrets: str | Sequence[str], claims: Claims) -> str:
    if claims.purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {claims.purpose!r}")
    secret = secrets if isinstance(secrets, str) else secrets[0]
    body = {"k": claims.key, "p": claims.purpose, "e": claims.expires_at, "i": claims.token_id}
    if claims.plays:
        body["n"] = claims.plays
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_mac(secret, payload)}"


def verify(secrets: str | Sequence[str], token: str, *, purpose: str, now: float) -> Claims:
    """The token's claims, or TokenError (malformed, forged, expired, or minted for another purpose)."""
    payload, dot, mac = (token or "").partition(".")
    if not dot or not payload or not mac or len(token) > 2048:
        raise TokenError("malformed token")
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not any(hmac.compare_digest(_mac(s, payload), mac) for s in keys):
        raise TokenError("bad token signature")
    try:
        body = json.loads(_unb64(payload))
        claims = Claims(
            key=str(body["k"]),
            purpose=str(body["p"]),
            expires_at=int(body["e"]),
            token_id=str(body["i"]),
            plays=int(body.get("n", 0)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenError("malformed token payload") from exc
    if claims.purpose != purpose:
        raise TokenError(f"token is for {claims.purpose}, not {purpose}")
    if now >= claims.expires_at:
        raise TokenError("token expired")
    return claims


class MemoryTokenStore:
    """In-process TokenStore for tests and the single-process demo (koban persists ids instead)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    async def consume(self, token_id: str, *, expires_at: float) -> bool:
        if token_id in self._seen:
            return False
        self._seen[token_id] = expires_at
        return True

    def forget_expired(self, now: float) -> None:
        self._seen = {k: v for k, v in self._seen.items() if v > now}
