"""Single sign-on with OpenID Connect: the checks on what the provider returns (pure).

The authorization-code flow: koban sends the browser to the provider with a fresh ``state`` (ties
the callback to this browser), ``nonce`` (ties the ID token to this login) and a PKCE verifier;
the callback's ``state`` must match, and the ID token, once its signature is verified
(``auth/oidc.py``), must pass ``check_claims``. The audience is checked explicitly: a token
issued to another client of the same provider is refused even when it names us as ``azp``
(Authlib's default claim options would accept that one).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

LEEWAY = 120.0  # seconds of clock difference tolerated on exp / iat


@dataclass(frozen=True, slots=True)
class Identity:
    issuer: str
    subject: str
    email: str | None
    groups: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(
    endpoint: str, *, client_id: str, redirect_uri: str, state: str, nonce: str, verifier: str, scopes: str
) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scopes,
        "state": state,
        "nonce": nonce,
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
    }
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"


def check_claims(
    claims: Mapping[str, Any],
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    now: float,
    group_claim: str = "groups",
) -> Identity | Refusal:
    if claims.get("iss") != issuer:
        return Refusal(f"the token's issuer is {claims.get('iss')!r}, not {issuer!r}")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else list(aud or [])
    if client_id not in audiences:
        return Refusal("the token was issued to another client")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        return Refusal("the token names several audiences and another authorized party")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, (int, float)) or exp < now - LEEWAY:
        return Refusal("the token has expired")
    if isinstance(iat, (int, float)) and iat > now + LEEWAY:
        return Refusal("the token is issued in the future")
    if not nonce or claims.get("nonce") != nonce:
        return Refusal("the token is not for this sign-in (nonce)")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        return Refusal("the token names no subject")
    email = claims.get("email") if claims.get("email_verified", True) is not False else None
    raw = claims.get(group_claim) or []
    groups = tuple(str(g) for g in (raw if isinstance(raw, list) else [raw]))
    return Identity(issuer, sub, email if isinstance(email, str) else None, groups)
