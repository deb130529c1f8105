"""REST: logins. A person of the config (or of the API's people) is given a login here, the way
``koban user create`` does from the machine that holds the database.

An administrator lists, creates, changes and disables logins; anyone signed in changes their own
password (with the current one). Disabling a login, or changing a password, ends the person's
sessions; their tokens stop working within a second on every instance (the guard's cache).
Passwords never come back, and the audit trail says only that one changed.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel, Field

from koban.api.access import ADMIN
from koban.api.deps import deps_of
from koban.auth.audit import Change, record
from koban.auth.guard import any_login, cache_of, ensure, origin_of
from koban.auth.login_admin import LoginRefused, LoginUpdate, set_login
from koban.auth.passwords import MIN_LENGTH, hash_password, verify, weakness
from koban.auth.permissions import Need, Role, Scope
from koban.db.schema_auth import memberships, sessions, users

router = APIRouter(prefix="/api/v1/users", tags=["users"])
PERSON = Path(..., min_length=1, max_length=200)
RoleName = Literal["viewer", "responder", "manager", "admin"]


class LoginChange(BaseModel):
    global_role: RoleName | None = Field(None, description="A role in every team; none: team roles only.")
    disabled: bool = False
    password: str | None = Field(
        None, min_length=MIN_LENGTH, max_length=1024, description="Set a password (12 characters or more)."
    )


class PasswordChange(BaseModel):
    current: str | None = Field(None, max_length=1024, description="Needed to change one's own password.")
    new: str = Field(..., min_length=MIN_LENGTH, max_length=1024)


def _shown(row: Any, teams: dict[str, str]) -> dict[str, Any]:
    return {
        "person": row.person_id,
        "global_role": row.global_role,
        "sso_role": row.sso_role,
        "teams": teams,
        "password": row.password_hash is not None,
        "single_sign_on": row.oidc_subject is not None,
        "disabled": bool(row.disabled),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


async def _teams(conn: Any, person: str | None = None) -> dict[str, dict[str, str]]:
    q = sa.select(memberships)
    if person is not None:
        q = q.where(memberships.c.person_id == person)
    out: dict[str, dict[str, str]] = {}
    for m in await conn.execute(q):
        out.setdefault(m.person_id, {})[m.team_id] = m.role
    return out


def _refuse_weak(password: str) -> None:
    if problem := weakness(password):
        raise HTTPException(422, problem)


async def _hash(password: str) -> str:
    # Argon2 with 64 MiB takes tens of milliseconds: off the event loop.
    return await asyncio.to_thread(hash_password, password)


@router.get("", summary="Logins and their roles", dependencies=[ADMIN])
async def list_users(request: Request) -> dict[str, Any]:
    deps = deps_of(request)
    async with deps.db.read() as conn:
        rows = list(await conn.execute(sa.select(users).order_by(users.c.person_id)))
        teams = await _teams(conn)
    return {"users": [_shown(r, teams.get(r.person_id, {})) for r in rows]}


@router.put("/{person}", summary="Give a person a login, or change it", dependencies=[ADMIN])
async def put_user(request: Request, body: LoginChange, person: str = PERSON) -> dict[str, Any]:
    deps = deps_of(request)
    if body.password is not None:
        _refuse_weak(body.password)
    hashed = await _hash(body.password) if body.password is not None else None
    change = LoginUpdate(Role.parse(body.global_role) if body.global_role else None, body.disabled, hashed)
    async with deps.db.begin() as conn:
        try:
            row = await set_login(conn, origin_of(request), deps.clock.now(), person, change)
        except LoginRefused as exc:
            raise HTTPException(exc.status, exc.message) from None
        teams = (await _teams(conn, person)).get(person, {})
    cache_of(request.app.state).forget_sessions(person)
    request.app.state.has_users = True
    return _shown(row, teams)


@router.post(
    "/{person}/password",
    summary="Change a password: one's own with the current one, anyone's as an administrator",
    dependencies=[Depends(any_login())],  # one's own password needs no role, only the login
)
async def change_password(request: Request, body: PasswordChange, person: str = PERSON) -> dict[str, Any]:
    deps = deps_of(request)
    own = person == request.state.principal.person_id
    if not own:
        ensure(request, Need(Scope.ADMIN))
    _refuse_weak(body.new)
    async with deps.db.read() as conn:
        row = (await conn.execute(sa.select(users).where(users.c.person_id == person))).first()
    if row is None:
        raise HTTPException(404, f"{person!r} has no login")
    if own and not (await asyncio.to_thread(verify, row.password_hash, body.current or "")).ok:
        raise HTTPException(403, "the current password is wrong")
    hashed = await _hash(body.new)
    now = deps.clock.now()
    async with deps.db.begin() as conn:
        await conn.execute(
            sa.update(users).where(users.c.person_id == person).values(password_hash=hashed, updated_at=now)
        )
        ended = (await conn.execute(sa.delete(sessions).where(sessions.c.person_id == person))).rowcount
        change = Change("user.password", "person", person, None, {"password": "changed"})
        await record(conn, origin_of(request), [change], now)
    cache_of(request.app.state).forget_sessions(person)
    return {"person": person, "sessions_ended": int(ended)}
