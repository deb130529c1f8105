"""What every REST route declares: the scope it needs, or why it is public.

``Depends(requires(Scope.MANAGE, team_of=...))`` on a route resolves the caller (an API token in
``Authorization: Bearer``, else a browser's session cookie) and applies ``permissions.decide``; a
route open to anonymous callers says why with ``public("...")``. ``guard_of(route)`` lets a test
walk every route of the app and fail on one that declares neither.

A session cookie is accepted the way a form post is: a request that changes state must also send
the session's CSRF token (header ``X-CSRF-Token``, or a web form's ``csrf`` field), since a browser
attaches cookies on its own.

Tokens and sessions are looked up once per second at most per process (``CallerCache``): an authenticated
request then costs a dict lookup and a SHA-256, and a revoked token is refused within a second on
every instance, because each instance's cache forgets it by then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs

import sqlalchemy as sa
from fastapi import HTTPException, Request
from starlette.routing import BaseRoute

from koban.auth import api_tokens, sessions
from koban.auth.audit import Door, Origin
from koban.auth.login import signed_in
from koban.auth.permissions import Need, Principal, Scope, decide
from koban.auth.store import Refused, authenticate
from koban.core.clock import Clock
from koban.db.engine import Database
from koban.db.schema_auth import users

CACHE_SECONDS = 1.0
CSRF_HEADER = "X-CSRF-Token"
TeamOf = Callable[[Request], Awaitable[str | None]]


class AuthDeps(Protocol):
    """What the guard needs of the app's deps (``request.app.state.deps``)."""

    db: Database
    clock: Clock


class CallerCache:
    """Who a credential is, remembered for at most ``CACHE_SECONDS``: API tokens by digest, and
    session cookies by digest with their CSRF token. Bounded: cleared when it grows past ``limit``,
    which only costs lookups."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self.entries: dict[str, tuple[Principal | Refused, str, float]] = {}

    def _get(self, key: str, now: float) -> tuple[Principal | Refused, str] | None:
        hit = self.entries.get(key)
        return (hit[0], hit[1]) if hit is not None and now - hit[2] < CACHE_SECONDS else None

    def _put(self, key: str, who: Principal | Refused, csrf: str, now: float) -> None:
        if len(self.entries) >= self.limit:
            self.entries.clear()
        self.entries[key] = (who, csrf, now)

    def forget_sessions(self, person_id: str) -> None:
        """This process learns at once of a logout it served (others within ``CACHE_SECONDS``)."""
        for key, (who, _, _) in list(self.entries.items()):
            if key.startswith("session:") and isinstance(who, Principal) and who.person_id == person_id:
                del self.entries[key]

    async def token(self, deps: AuthDeps, text: str) -> Principal | Refused:
        now = deps.clock.now()
        key = api_tokens.digest(text)
        hit = self._get(key, now)
        if hit is not None:
            return hit[0]
        async with deps.db.begin() as conn:
            found = await authenticate(conn, text, now)
        self._put(key, found, "", now)
        return found

    async def session(self, deps: AuthDeps, session_id: str) -> tuple[Principal | Refused, str]:
        now = deps.clock.now()
        key = "session:" + sessions.digest(session_id)
        hit = self._get(key, now)
        if hit is not None:
            return hit
        found = await signed_in(deps.db, session_id, now)
        who, csrf = (
            (found[1], found[0].csrf) if found else (Refused("the session has ended: sign in again"), "")
        )
        self._put(key, who, csrf, now)
        return who, csrf


@dataclass(frozen=True, slots=True)
class Guard:
    scope: Scope | None  # None: public
    team_of: TeamOf | None = None
    why_public: str = ""
    any_role: bool = False  # a valid token is enough (who am I): no role is checked

    async def __call__(self, request: Request) -> Principal | None:
        if self.scope is None:
            return None
        header = request.headers.get("authorization", "")
        scheme, _, text = header.partition(" ")
        state = request.app.state
        if scheme.lower() == "bearer" and text:
            who = await cache_of(state).token(state.deps, text.strip())
        elif request.cookies.get(sessions.COOKIE):
            who, csrf = await cache_of(state).session(state.deps, request.cookies[sessions.COOKIE])
            unsafe = request.method not in SAFE_METHODS
            if (
                unsafe
                and isinstance(who, Principal)
                and not sessions.csrf_ok(csrf, request.headers.get(CSRF_HEADER) or await _form_csrf(request))
            ):
                raise HTTPException(
                    403, f"a change made with a session cookie needs the {CSRF_HEADER} header"
                )
            request.state.door = "ui"
        else:
            raise HTTPException(401, await _how_to_sign_in(state), headers={"WWW-Authenticate": "Bearer"})
        if isinstance(who, Refused):
            raise HTTPException(401, who.reason, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        team = await self.team_of(request) if self.team_of is not None else None
        verdict = decide(who, Need(self.scope, team))
        if not (verdict.allowed or self.any_role):
            raise HTTPException(403, verdict.reason)
        request.state.principal = who
        return who


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPE = "application/x-www-form-urlencoded"


async def _form_csrf(request: Request) -> str | None:
    """A web page's form carries the token as its ``csrf`` field (a form cannot set a header).
    Starlette keeps the body it read, so the route reads the same form again."""
    if not request.headers.get("content-type", "").startswith(FORM_TYPE):
        return None
    try:
        fields = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=1000)
    except ValueError:  # more fields than any koban form has
        return None
    return fields.get("csrf", [None])[0]


FIRST_ADMIN = "nobody can sign in yet: make the first administrator with `koban user create PERSON --admin`"


async def _how_to_sign_in(state: Any) -> str:
    """What a 401 says: how to sign in, or, on a fresh install, how to make the first login."""
    if not getattr(state, "has_users", False):
        deps: AuthDeps = state.deps
        async with deps.db.read() as conn:
            state.has_users = (await conn.execute(sa.select(users.c.person_id).limit(1))).first() is not None
    if not state.has_users:
        return FIRST_ADMIN
    return "sign in, or send an API token: Authorization: Bearer kbt_…"


def cache_of(state: Any) -> CallerCache:
    """The app's one cache of callers (made on first use)."""
    cache: CallerCache | None = getattr(state, "caller_cache", None)
    if cache is None:
        cache = state.caller_cache = CallerCache()
    return cache


def requires(scope: Scope, team_of: TeamOf | None = None) -> Guard:
    return Guard(scope, team_of)


def any_login() -> Guard:
    """Any valid token, whatever its owner may do: for a caller asking who it is."""
    return Guard(Scope.READ, any_role=True)


def public(why: str) -> Guard:
    """An anonymous route, with the reason written where the route is (ingest keys, signatures…)."""
    if not why.strip():
        raise ValueError("a public route says why it is public")
    return Guard(None, None, why)


def guard_of(route: BaseRoute) -> Guard | None:
    """The guard a route declares, from its dependencies (FastAPI routes only; None if none)."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None
    for dep in dependant.dependencies:
        if isinstance(dep.call, Guard):
            return dep.call
    return None


__all__ = ["CallerCache", "Guard", "any_login", "cache_of", "guard_of", "origin_of", "public", "requires"]


def origin_of(request: Request) -> Origin:
    """Who made this request and from where, for the audit trail (the guard set the principal)."""
    who = getattr(request.state, "principal", None)
    return Origin(
        who.person_id if who is not None else None,
        Door(getattr(request.state, "door", Door.API)),  # the guard marks a session's requests "ui"
        ip=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", "")[:512],
        token_id=who.token_id if who is not None else None,
    )


def ensure(request: Request, need: Need) -> Principal:
    """A second check inside a handler, for what a route's guard could not know (a write that moves
    an object to another team). The route's guard must have run: it set ``request.state.principal``."""
    who: Principal = request.state.principal
    verdict = decide(who, need)
    if not verdict.allowed:
        raise HTTPException(403, verdict.reason)
    return who
