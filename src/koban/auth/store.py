"""Logins, memberships and API tokens in the database: the I/O around ``permissions`` and ``api_tokens``."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.auth import api_tokens
from koban.auth.permissions import Principal, Role, Scope
from koban.db.schema_auth import api_tokens as tokens_t
from koban.db.schema_auth import memberships, users

# last_used_at is written at most this often per token: a busy token must not turn every read
# into a write (on SQLite, every write queues behind the one writer).
LAST_USED_RESOLUTION = 60.0


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    shown: str
    person_id: str
    name: str
    kind: str
    scope: Scope
    team_id: str | None
    created_at: float
    expires_at: float | None
    last_used_at: float | None
    revoked_at: float | None


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str  # for the 401's body: never says whether the token exists


async def create_user(
    conn: AsyncConnection, person_id: str, now: float, *, password_hash: str | None, global_role: Role | None
) -> None:
    await conn.execute(
        sa.insert(users).values(
            person_id=person_id,
            password_hash=password_hash,
            global_role=global_role.name.lower() if global_role else None,
            disabled=False,
            created_at=now,
            updated_at=now,
        )
    )


async def set_membership(conn: AsyncConnection, team_id: str, person_id: str, role: Role) -> None:
    await conn.execute(
        sa.delete(memberships).where(memberships.c.team_id == team_id, memberships.c.person_id == person_id)
    )
    await conn.execute(
        sa.insert(memberships).values(team_id=team_id, person_id=person_id, role=role.name.lower())
    )


async def principal_for(conn: AsyncConnection, person_id: str) -> Principal | None:
    """The person's roles, or None when they have no login or it is disabled."""
    user = (await conn.execute(sa.select(users).where(users.c.person_id == person_id))).first()
    if user is None or user.disabled:
        return None
    rows = await conn.execute(sa.select(memberships).where(memberships.c.person_id == person_id))
    # The higher of the role given here and the one the provider's groups gave (auth/sso_roles.py).
    held = [Role.parse(r) for r in (user.global_role, user.sso_role) if r]
    return Principal(
        person_id,
        global_role=max(held) if held else None,
        team_roles={r.team_id: Role.parse(r.role) for r in rows},
    )


async def create_token(
    conn: AsyncConnection,
    issued: api_tokens.IssuedToken,
    now: float,
    *,
    person_id: str,
    name: str,
    scope: Scope,
    kind: str = "personal",
    team_id: str | None = None,
    expires_at: float | None = None,
) -> int:
    result = await conn.execute(
        sa.insert(tokens_t)
        .values(
            digest=issued.digest,
            shown=issued.shown,
            person_id=person_id,
            name=name,
            kind=kind,
            scope=scope.name.lower(),
            team_id=team_id,
            created_at=now,
            expires_at=expires_at,
        )
        .returning(tokens_t.c.id)
    )
    return int(result.scalar_one())


def _info(row: sa.Row) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.shown,
        row.person_id,
        row.name,
        row.kind,
        Scope.parse(row.scope),
        row.team_id,
        row.created_at,
        row.expires_at,
        row.last_used_at,
        row.revoked_at,
    )


async def list_tokens(conn: AsyncConnection, person_id: str | None = None) -> list[TokenInfo]:
    q = sa.select(tokens_t).order_by(tokens_t.c.id)
    if person_id is not None:
        q = q.where(tokens_t.c.person_id == person_id)
    return [_info(r) for r in await conn.execute(q)]


async def revoke_token(conn: AsyncConnection, token_id: int, now: float) -> bool:
    done = await conn.execute(
        sa.update(tokens_t)
        .where(tokens_t.c.id == token_id, tokens_t.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(done.rowcount)


async def authenticate(conn: AsyncConnection, text: str, now: float) -> Principal | Refused:
    """The principal a bearer token speaks for, narrowed by its scope and team; or why not."""
    if not api_tokens.well_formed(text):
        return Refused("not a koban API token")
    row = (
        await conn.execute(sa.select(tokens_t).where(tokens_t.c.digest == api_tokens.digest(text)))
    ).first()
    if row is None or row.revoked_at is not None:
        return Refused("unknown or revoked token")
    if row.expires_at is not None and row.expires_at <= now:
        return Refused("token expired")
    person = await principal_for(conn, row.person_id)
    if person is None:
        return Refused("the token's owner cannot sign in")
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        await conn.execute(sa.update(tokens_t).where(tokens_t.c.id == row.id).values(last_used_at=now))
    return Principal(
        person.person_id,
        person.global_role,
        person.team_roles,
        token_id=row.id,
        token_scope=Scope.parse(row.scope),
        token_team=row.team_id,
    )
