"""Logins and API tokens on SQLite and PostgreSQL: issue, use, expire, revoke."""

from __future__ import annotations

from koban.auth import api_tokens
from koban.auth.permissions import Principal, Role, Scope
from koban.auth.store import (
    Refused,
    authenticate,
    create_token,
    create_user,
    list_tokens,
    principal_for,
    revoke_token,
    set_membership,
)
from koban.db.engine import Database
from koban.db.migrate import upgrade

NOW = 1_800_000_000.0


async def _setup(db: Database) -> api_tokens.IssuedToken:
    issued = api_tokens.issue(b"\x05" * 24)
    async with db.begin() as conn:
        await create_user(conn, "alice", NOW, password_hash=None, global_role=None)
        await set_membership(conn, "web", "alice", Role.RESPONDER)
        await set_membership(conn, "web", "alice", Role.MANAGER)  # replaces, never duplicates
        await create_token(
            conn, issued, NOW, person_id="alice", name="laptop", scope=Scope.RESPOND, expires_at=NOW + 3600
        )
    return issued


async def test_a_token_speaks_for_its_owner_narrowed_to_its_scope(db_url):
    upgrade(db_url)
    db = Database(db_url)
    try:
        issued = await _setup(db)
        async with db.begin() as conn:
            who = await authenticate(conn, issued.text, NOW + 5)
            assert isinstance(who, Principal)
            assert (who.person_id, who.team_roles, who.token_scope) == (
                "alice",
                {"web": Role.MANAGER},
                Scope.RESPOND,
            )
            assert await principal_for(conn, "alice") == Principal("alice", team_roles={"web": Role.MANAGER})
            [info] = await list_tokens(conn, "alice")
        assert (info.shown, info.last_used_at, info.revoked_at) == (issued.shown, NOW + 5, None)
    finally:
        await db.dispose()


async def test_expired_revoked_and_unknown_tokens_are_refused(db_url):
    upgrade(db_url)
    db = Database(db_url)
    try:
        issued = await _setup(db)
        async with db.begin() as conn:
            assert await authenticate(conn, issued.text, NOW + 3600) == Refused("token expired")
            other = api_tokens.issue(b"\x06" * 24).text
            assert await authenticate(conn, other, NOW) == Refused("unknown or revoked token")
            assert await authenticate(conn, "hunter2", NOW) == Refused("not a koban API token")
            [info] = await list_tokens(conn)
            assert await revoke_token(conn, info.id, NOW + 1)
            assert not await revoke_token(conn, info.id, NOW + 2)  # once
            assert await authenticate(conn, issued.text, NOW + 3) == Refused("unknown or revoked token")
    finally:
        await db.dispose()
