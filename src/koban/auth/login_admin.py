"""Giving a person a login, or changing its role and whether it is disabled, with its audit entry:
one path for the REST API (``PUT /api/v1/users/{person}``, ``api/users.py``) and the settings page
(``web/settings_logins.py``), so neither door skips the trail, the end of a disabled person's
sessions, or the rule that an administrator cannot lock themselves out.

The caller hashes a new password off the event loop (Argon2 takes tens of milliseconds) and, after
the commit, tells its guard cache to forget the person's sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.auth.audit import Change, Origin, record
from koban.auth.permissions import Role
from koban.auth.store import create_user
from koban.db import schema as t
from koban.db.schema_auth import sessions, users


@dataclass(frozen=True, slots=True)
class LoginUpdate:
    global_role: Role | None  # a role in every team; None: team roles only
    disabled: bool = False
    password_hash: str | None = None  # None: the password stays as it is


class LoginRefused(Exception):
    """Why a login change is refused, with the HTTP status each door answers it with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def self_lockout(actor: str | None, person: str, change: LoginUpdate) -> bool:
    """An administrator lowering or disabling their own login: refused, so nobody locks themselves
    out by mistake (another administrator can)."""
    return actor == person and (change.disabled or change.global_role is not Role.ADMIN)


async def set_login(
    conn: AsyncConnection, origin: Origin, now: float, person: str, change: LoginUpdate
) -> Any:
    """Create or change ``person``'s login in the caller's transaction; returns its row."""
    if self_lockout(origin.actor, person, change):
        raise LoginRefused(409, "you cannot lower or disable your own login: ask another administrator")
    if (await conn.execute(sa.select(t.people.c.id).where(t.people.c.id == person))).first() is None:
        raise LoginRefused(404, f"no person {person!r}: add them to the config or through the API first")
    role = change.global_role.name.lower() if change.global_role is not None else None
    before = (await conn.execute(sa.select(users).where(users.c.person_id == person))).first()
    after: dict[str, Any] = {"global_role": role, "disabled": change.disabled}
    if change.password_hash is not None:
        after["password"] = "changed"
    if before is None:
        await create_user(
            conn, person, now, password_hash=change.password_hash, global_role=change.global_role
        )
        if change.disabled:
            await conn.execute(sa.update(users).where(users.c.person_id == person).values(disabled=True))
        action, was = "user.create", None
    else:
        values: dict[str, Any] = {"global_role": role, "disabled": change.disabled, "updated_at": now}
        if change.password_hash is not None:
            values["password_hash"] = change.password_hash
        await conn.execute(sa.update(users).where(users.c.person_id == person).values(**values))
        action, was = "user.update", {"global_role": before.global_role, "disabled": bool(before.disabled)}
        if change.disabled or change.password_hash is not None:
            await conn.execute(sa.delete(sessions).where(sessions.c.person_id == person))
    await record(conn, origin, [Change(action, "person", person, was, after)], now)
    return (await conn.execute(sa.select(users).where(users.c.person_id == person))).one()
