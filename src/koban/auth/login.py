"""Signing in with a password, and signing out: the I/O around ``passwords``, ``sessions`` and
``login_throttle``, with every outcome on the audit trail.

``password_login`` runs in one transaction: throttle check, Argon2 verification (with rehash),
failure counts, a fresh session (so an id planted before login is never honoured) and the audit
entry. Randomness (session id, CSRF token) comes from the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.auth import sessions
from koban.auth.audit import Change, Origin, record
from koban.auth.login_throttle import Failures, after_failure, retry_after
from koban.auth.passwords import HASHER, verify
from koban.auth.permissions import Principal
from koban.auth.store import principal_for
from koban.db.engine import Database
from koban.db.schema_auth import login_failures, users
from koban.db.schema_auth import sessions as sessions_t


@dataclass(frozen=True, slots=True)
class SignedIn:
    person_id: str
    session_id: str  # for the cookie; only its digest is stored
    csrf: str


@dataclass(frozen=True, slots=True)
class NotSignedIn:
    reason: str  # the same words whether the account exists or not
    retry_after: float = 0.0


WRONG = "wrong username or password"


async def _failures(conn: AsyncConnection, key: str) -> Failures:
    row = (await conn.execute(sa.select(login_failures).where(login_failures.c.key == key))).first()
    return Failures(row.failures, row.last_at) if row else Failures()


async def _save_failures(conn: AsyncConnection, key: str, f: Failures) -> None:
    await conn.execute(sa.delete(login_failures).where(login_failures.c.key == key))
    await conn.execute(sa.insert(login_failures).values(key=key, failures=f.count, last_at=f.last_at))


async def password_login(
    conn: AsyncConnection,
    person_id: str,
    password: str,
    origin: Origin,
    now: float,
    *,
    new_session_id: str,
    new_csrf: str,
) -> SignedIn | NotSignedIn:
    account, address = f"account:{person_id}"[:160], f"address:{origin.ip}"[:160]
    fa, fb = await _failures(conn, account), await _failures(conn, address)
    wait = retry_after(fa, fb, now)
    if wait > 0:
        await record(conn, origin, [Change("login.throttled", "person", person_id)], now)
        return NotSignedIn("too many failed sign-ins: wait, then try again", wait)
    user = (await conn.execute(sa.select(users).where(users.c.person_id == person_id))).first()
    usable = user is not None and not user.disabled
    checked = verify(user.password_hash if usable and user is not None else None, password)
    if not checked.ok:
        await _save_failures(conn, account, after_failure(fa, now))
        await _save_failures(conn, address, after_failure(fb, now))
        await record(conn, origin, [Change("login.failed", "person", person_id)], now)
        return NotSignedIn(WRONG)
    if checked.rehash:
        await conn.execute(
            sa.update(users)
            .where(users.c.person_id == person_id)
            .values(password_hash=HASHER.hash(password), updated_at=now)
        )
    await conn.execute(sa.delete(login_failures).where(login_failures.c.key == account))
    return await start_session(conn, person_id, origin, now, new_session_id, new_csrf, via_sso=False)


async def session_for(conn: AsyncConnection, session_id: str, now: float) -> sessions.SessionRow | None:
    """The session row behind a cookie if it is still valid (read only)."""
    r = (
        await conn.execute(sa.select(sessions_t).where(sessions_t.c.digest == sessions.digest(session_id)))
    ).first()
    row = sessions.SessionRow(r.person_id, r.csrf, r.created_at, r.last_seen_at, r.expires_at) if r else None
    return row if sessions.check(row, now).valid else None


async def signed_in(
    db: Database, session_id: str, now: float
) -> tuple[sessions.SessionRow, Principal] | None:
    """The session and the person behind a cookie, or None (ended, expired, or the login disabled).

    A read, then a write only when there is one to make: an ended session's row goes, and
    ``last_seen_at`` moves at most once a minute (on SQLite a write transaction per page view
    would serialize every browser behind the one writer)."""
    key = sessions.digest(session_id)
    async with db.read() as conn:
        r = (await conn.execute(sa.select(sessions_t).where(sessions_t.c.digest == key))).first()
        row = (
            sessions.SessionRow(r.person_id, r.csrf, r.created_at, r.last_seen_at, r.expires_at)
            if r
            else None
        )
        verdict = sessions.check(row, now)
        who = await principal_for(conn, row.person_id) if verdict.valid and row is not None else None
    if r is not None and (not verdict.valid or verdict.touch):
        async with db.begin() as conn:
            where = sessions_t.c.digest == key
            if verdict.valid:
                await conn.execute(sa.update(sessions_t).where(where).values(last_seen_at=now))
            else:
                await conn.execute(sa.delete(sessions_t).where(where))
    return (row, who) if row is not None and who is not None else None


async def logout(
    conn: AsyncConnection, session_id: str, origin: Origin, now: float, *, everywhere: bool
) -> int:
    """End this session, or every session of its person; returns how many ended."""
    key = sessions.digest(session_id)
    r = (await conn.execute(sa.select(sessions_t.c.person_id).where(sessions_t.c.digest == key))).first()
    if r is None:
        return 0
    where = sessions_t.c.person_id == r.person_id if everywhere else sessions_t.c.digest == key
    ended = (await conn.execute(sa.delete(sessions_t).where(where))).rowcount
    action = "logout.everywhere" if everywhere else "logout"
    await record(
        conn,
        Origin(r.person_id, origin.via, origin.ip, origin.user_agent),
        [Change(action, "person", r.person_id)],
        now,
    )
    return int(ended)


async def start_session(
    conn: AsyncConnection,
    person_id: str,
    origin: Origin,
    now: float,
    session_id: str,
    csrf: str,
    *,
    via_sso: bool,
) -> SignedIn:
    """A new signed-in session (always a new id: no fixation), on the audit trail."""
    row = sessions.new_row(person_id, csrf, now)
    await conn.execute(
        sa.insert(sessions_t).values(
            digest=sessions.digest(session_id),
            person_id=person_id,
            csrf=row.csrf,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            ip=origin.ip[:64],
            user_agent=origin.user_agent[:512],
        )
    )
    signed = Origin(person_id, origin.via, origin.ip, origin.user_agent)
    action = "login.sso" if via_sso else "login.succeeded"
    await record(conn, signed, [Change(action, "person", person_id)], now)
    return SignedIn(person_id, session_id, csrf)
