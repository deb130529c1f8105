"""Making and revoking API tokens, with their audit entries: one path for the REST API
(``api/tokens.py``) and the settings page (``web/settings_tokens.py``), so neither door can skip the
trail or the rule that only an administrator touches another person's tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from koban.auth import api_tokens
from koban.auth.audit import Change, Origin, record
from koban.auth.permissions import Need, Principal, Scope, decide
from koban.auth.store import create_token, list_tokens, revoke_token

MAX_LIFETIME = 5 * 365 * 86400


@dataclass(frozen=True, slots=True)
class TokenRequest:
    owner: str
    name: str
    scope: Scope
    team: str | None = None
    expires_in: float | None = None  # seconds; None: never
    service: bool = False


@dataclass(frozen=True, slots=True)
class Issued:
    id: int
    text: str  # shown once: koban keeps only its digest


def may_manage(who: Principal, owner: str) -> bool:
    """One's own tokens, or anyone's for an administrator."""
    return owner == who.person_id or decide(who, Need(Scope.ADMIN)).allowed


async def issue_token(conn: AsyncConnection, origin: Origin, now: float, new: TokenRequest) -> Issued:
    """The caller checked ``may_manage`` (the route's 403 is its own)."""
    issued = api_tokens.issue(secrets.token_bytes(24))
    ident = await create_token(
        conn,
        issued,
        now,
        person_id=new.owner,
        name=new.name,
        scope=new.scope,
        kind="service" if new.service else "personal",
        team_id=new.team,
        expires_at=now + new.expires_in if new.expires_in else None,
    )
    after = {"person": new.owner, "name": new.name, "scope": new.scope.name.lower(), "team": new.team}
    await record(conn, origin, [Change("token.create", "token", str(ident), None, after)], now)
    return Issued(ident, issued.text)


async def revoke(conn: AsyncConnection, who: Principal, origin: Origin, now: float, token_id: int) -> bool:
    """False when there is no such active token the caller may revoke: someone else's token is
    answered as absent, so a person cannot learn which ids exist."""
    token = next((x for x in await list_tokens(conn) if x.id == token_id), None)
    if token is None or token.revoked_at is not None or not may_manage(who, token.person_id):
        return False
    await revoke_token(conn, token_id, now)
    await record(conn, origin, [Change("token.revoke", "token", str(token_id))], now)
    return True
