"""Password sign-in on SQLite and PostgreSQL: a fresh session each time, same answer for unknown
users, growing delays, rehash on login, logout here or everywhere; all on the audit trail."""

from __future__ import annotations

import sqlalchemy as sa
from argon2 import PasswordHasher

from koban.auth import login as login_mod
from koban.auth.audit import Door, Filter, Origin, query
from koban.auth.login import WRONG, NotSignedIn, SignedIn, logout, password_login, session_for
from koban.auth.login_throttle import FREE
from koban.auth.store import create_user
from koban.db.engine import Database
from koban.db.migrate import upgrade
from koban.db.schema_auth import users

T = 1_800_000_000.0
PASSWORD = "correct horse battery"
WEB = Origin(None, Door.UI, ip="192.0.2.7", user_agent="Firefox")
OLD = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


async def _signin(db: Database, who: str, password: str, now: float, n: int) -> SignedIn | NotSignedIn:
    async with db.begin() as conn:
        return await password_login(
            conn, who, password, WEB, now, new_session_id=f"sid-{n}", new_csrf=f"csrf-{n}"
        )


async def test_sign_in_makes_a_fresh_session_and_rehashes_old_parameters(db_url):
    upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.begin() as conn:
            await create_user(conn, "alice", T, password_hash=OLD.hash(PASSWORD), global_role=None)
        first = await _signin(db, "alice", PASSWORD, T, 1)
        second = await _signin(db, "alice", PASSWORD, T + 1, 2)
        assert isinstance(first, SignedIn) and isinstance(second, SignedIn)
        assert first.session_id != second.session_id  # never the id the browser came with
        async with db.begin() as conn:
            stored = (await conn.execute(sa.select(users.c.password_hash))).scalar_one()
            assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=2$")  # replaced by today's parameters
            assert (await session_for(conn, "sid-1", T + 5)).person_id == "alice"
            assert await session_for(conn, "sid-unknown", T + 5) is None
            assert await logout(conn, "sid-1", WEB, T + 6, everywhere=True) == 2
            assert await session_for(conn, "sid-2", T + 7) is None
            actions = [e.change.action for e in await query(conn, Filter(actor="alice"))]
        assert actions == ["logout.everywhere", "login.succeeded", "login.succeeded"]
    finally:
        await db.dispose()


async def test_unknown_users_and_wrong_passwords_get_the_same_answer_then_a_growing_wait(db_url, monkeypatch):
    monkeypatch.setattr(login_mod, "HASHER", OLD)
    upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.begin() as conn:
            await create_user(conn, "bob", T, password_hash=OLD.hash(PASSWORD), global_role=None)
        assert await _signin(db, "nobody", PASSWORD, T, 1) == NotSignedIn(WRONG)
        for i in range(FREE):
            assert await _signin(db, "bob", "wrong password!", T + i, 10 + i) == NotSignedIn(WRONG)
        refused = await _signin(db, "bob", PASSWORD, T + FREE, 20)  # even the right one, for now
        assert isinstance(refused, NotSignedIn) and refused.retry_after > 0
        assert isinstance(await _signin(db, "bob", PASSWORD, T + FREE + 60, 21), SignedIn)
        async with db.read() as conn:
            kinds = [
                e.change.action for e in await query(conn, Filter(object_kind="person", object_id="bob"))
            ]
        assert kinds == ["login.succeeded", "login.throttled"] + ["login.failed"] * FREE
    finally:
        await db.dispose()
