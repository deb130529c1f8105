"""Routes declare what they need; the guard answers 401, 403 or lets through, and forgets a revoked
token within a second."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from fastapi import Depends, FastAPI, Request

from koban.auth import api_tokens
from koban.auth.guard import guard_of, public, requires
from koban.auth.permissions import Role, Scope
from koban.auth.store import create_token, create_user, list_tokens, revoke_token, set_membership
from koban.core.clock import FakeClock
from koban.db.engine import Database
from koban.db.migrate import upgrade

NOW = 1_800_000_000.0


@dataclass
class Deps:
    db: Database
    clock: FakeClock


async def team_from_path(request: Request) -> str | None:
    return request.path_params.get("team")


def make_app(deps: Deps) -> FastAPI:
    app = FastAPI()
    app.state.deps = deps

    @app.get("/healthz", dependencies=[Depends(public("load balancers ask without credentials"))])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/teams/{team}/policies", dependencies=[Depends(requires(Scope.READ, team_from_path))])
    async def read(team: str) -> dict[str, str]:
        return {"team": team}

    @app.put("/teams/{team}/policies", dependencies=[Depends(requires(Scope.MANAGE, team_from_path))])
    async def edit(team: str) -> dict[str, str]:
        return {"edited": team}

    return app


async def _token(db: Database, scope: Scope, seed: int) -> str:
    issued = api_tokens.issue(bytes([seed]) * 24)
    async with db.begin() as conn:
        await create_token(conn, issued, NOW, person_id="alice", name=f"t{seed}", scope=scope)
    return issued.text


async def test_every_route_declares_a_need_or_why_it_is_public(db_url):
    app = make_app(Deps(Database(db_url), FakeClock(NOW)))
    routes = [r for r in app.routes if hasattr(r, "dependant")]
    assert [r.path for r in routes if guard_of(r) is None] == []
    # FastAPI's own pages are plain Starlette routes: the app-wide walk must cover those too.
    others = {getattr(r, "path", "") for r in app.routes if not hasattr(r, "dependant")}
    assert others == {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
    assert guard_of(next(r for r in app.routes if getattr(r, "path", "") == "/healthz")).why_public


async def test_anonymous_wrong_scope_other_team_and_revoked_tokens_are_refused(db_url):
    upgrade(db_url)
    deps = Deps(Database(db_url), FakeClock(NOW))
    try:
        async with deps.db.begin() as conn:
            await create_user(conn, "alice", NOW, password_hash=None, global_role=None)
            await set_membership(conn, "web", "alice", Role.MANAGER)
        reader, manager = await _token(deps.db, Scope.READ, 1), await _token(deps.db, Scope.MANAGE, 2)
        transport = httpx.ASGITransport(app=make_app(deps))
        async with httpx.AsyncClient(transport=transport, base_url="http://koban.test") as client:

            async def status(method: str, path: str, token: str | None = None) -> tuple[int, str]:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                r = await client.request(method, path, headers=headers)
                return r.status_code, r.json().get("detail", "")

            assert (await client.get("/healthz")).status_code == 200
            assert (await status("GET", "/teams/web/policies"))[0] == 401
            assert await status("GET", "/teams/web/policies", "kbt_nonsense") == (
                401,
                "not a koban API token",
            )
            assert (await status("GET", "/teams/web/policies", reader))[0] == 200
            assert await status("PUT", "/teams/web/policies", reader) == (
                403,
                "the token's scope is read, not manage",
            )
            assert (await status("PUT", "/teams/web/policies", manager))[0] == 200
            assert await status("PUT", "/teams/db/policies", manager) == (403, "needs manage in team 'db'")

            async with deps.db.begin() as conn:
                [_, info] = await list_tokens(conn)
                await revoke_token(conn, info.id, NOW)
            assert (await status("PUT", "/teams/web/policies", manager))[0] == 200  # cached, for under 1 s
            deps.clock.advance(1.0)
            assert await status("PUT", "/teams/web/policies", manager) == (401, "unknown or revoked token")
    finally:
        await deps.db.dispose()
