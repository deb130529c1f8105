"""REST: heartbeat monitors (dead-man's switches) and their ping URLs.

A job, cron or Alertmanager's always-firing "Watchdog" alert (a webhook receiver pointing here)
pings ``/api/v1/heartbeats/{id}/ping`` with an integration key of the heartbeat's service, in a
header or, for tools that cannot set one, in the path (``.../ping/{key}``). GET and POST both
count; the body is ignored. ``?kind=start`` marks a run as started, ``?kind=fail`` reports failure.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from starlette.routing import BaseRoute

from koban.api.access import READ, anonymous, heartbeat_team, need, visible_services
from koban.api.deps import ApiDeps, deps_of
from koban.auth.audit import Change, record
from koban.auth.guard import ensure, origin_of
from koban.auth.permissions import Need, Scope
from koban.catalog.routing_apply import ensure_heartbeat_state, row_values
from koban.config.model_routing import Heartbeat
from koban.db import schema_routing as r
from koban.ingest.key_auth import key_from_headers
from koban.sources.heartbeat import PingKind
from koban.triage import heartbeats

router = APIRouter(prefix="/api/v1", tags=["heartbeats"])


async def _rows(
    deps: ApiDeps, ident: str | None = None
) -> dict[str, tuple[Heartbeat, str, dict[str, Any] | None]]:
    hb, st = r.heartbeats, r.heartbeat_state
    q = sa.select(hb.c.definition, hb.c.origin, st).select_from(hb.outerjoin(st, st.c.id == hb.c.id))
    if ident is not None:
        q = q.where(hb.c.id == ident)
    out = {}
    async with deps.db.read() as conn:
        for row in (await conn.execute(q.order_by(hb.c.id))).mappings():
            model = Heartbeat.model_validate(row["definition"])
            state = dict(row) if row["status"] is not None else None
            out[model.id] = (model, row["origin"], state)
    return out


def _json(model: Heartbeat, origin: str, state: dict[str, Any] | None) -> dict[str, Any]:
    return {**heartbeats.describe(model, state), "origin": origin}


@router.get("/heartbeats", summary="List heartbeats with their status", dependencies=[READ])
async def list_heartbeats(request: Request) -> dict[str, Any]:
    rows = await _rows(deps_of(request))
    shown = await visible_services(request)
    return {"heartbeats": [_json(*v) for v in rows.values() if shown is None or v[0].service in shown]}


@router.get(
    "/heartbeats/{ident}",
    summary="One heartbeat and its status",
    dependencies=[need(Scope.READ, heartbeat_team)],
)
async def get_heartbeat(request: Request, ident: str) -> dict[str, Any]:
    rows = await _rows(deps_of(request), ident)
    if ident not in rows:
        raise HTTPException(404, f"heartbeat {ident} does not exist")
    return _json(*rows[ident])


@router.put(
    "/heartbeats/{ident}",
    summary="Create or replace a heartbeat (not one from the config file)",
    dependencies=[need(Scope.MANAGE, heartbeat_team)],
)
async def put_heartbeat(request: Request, ident: str, body: Heartbeat) -> dict[str, Any]:
    deps = deps_of(request)
    if body.id != ident:
        raise HTTPException(422, f"the body's id {body.id!r} differs from the URL's {ident!r}")
    await deps.refresh_catalog()
    if body.service not in deps.catalog.services:
        raise HTTPException(422, f"unknown service {body.service!r}")
    # Moving a heartbeat to another team's service needs that team too (the guard checked the old one).
    ensure(request, Need(Scope.MANAGE, deps.catalog.services[body.service].team))
    now = deps.clock.now()
    async with deps.db.begin() as conn:
        found = (
            await conn.execute(
                sa.select(r.heartbeats.c.origin, r.heartbeats.c.definition).where(r.heartbeats.c.id == ident)
            )
        ).first()
        if found is not None and found.origin == "config":
            raise HTTPException(409, f"heartbeat {ident} comes from the config file; change it there")
        values = row_values("heartbeats", body, now, "api")
        verb, before = ("update", found.definition) if found is not None else ("create", None)
        change = Change(f"heartbeats.{verb}", "heartbeats", ident, before, body.model_dump(mode="json"))
        await record(conn, origin_of(request), [change], now)
        if found is None:
            await conn.execute(sa.insert(r.heartbeats).values(id=ident, **values))
        else:
            await conn.execute(sa.update(r.heartbeats).where(r.heartbeats.c.id == ident).values(**values))
        await ensure_heartbeat_state(conn, ident, now)
    await deps.refresh_catalog(force=True)
    return _json(*(await _rows(deps, ident))[ident])


@router.delete(
    "/heartbeats/{ident}",
    status_code=204,
    summary="Delete a heartbeat made through the API",
    dependencies=[need(Scope.MANAGE, heartbeat_team)],
)
async def delete_heartbeat(request: Request, ident: str) -> None:
    deps = deps_of(request)
    async with deps.db.begin() as conn:
        found = (
            await conn.execute(sa.select(r.heartbeats.c.origin).where(r.heartbeats.c.id == ident))
        ).first()
        if found is None:
            raise HTTPException(404, f"heartbeat {ident} does not exist")
        if found.origin == "config":
            raise HTTPException(409, f"heartbeat {ident} comes from the config file; remove it there")
        await conn.execute(sa.delete(r.heartbeats).where(r.heartbeats.c.id == ident))
        await conn.execute(sa.delete(r.heartbeat_state).where(r.heartbeat_state.c.id == ident))
        change = Change("heartbeats.delete", "heartbeats", ident, None, None)
        await record(conn, origin_of(request), [change], deps.clock.now())
    await deps.refresh_catalog(force=True)


async def _ping(request: Request, ident: str, key: str | None, kind: PingKind) -> dict[str, Any]:
    deps = deps_of(request)
    key = key or key_from_headers(request.headers)
    now = deps.clock.now()
    integ = deps.catalog.integration_for_key(key, now) if key else None
    if integ is None:
        raise HTTPException(401, "a ping needs an integration key of the heartbeat's service")
    hb = deps.catalog.routing.heartbeats.get(ident)
    if hb is None:
        await deps.refresh_catalog()
        hb = deps.catalog.routing.heartbeats.get(ident)
    if hb is None or deps.catalog.integration_service.get(integ.id) != hb.service:
        raise HTTPException(404, f"no heartbeat {ident} in this key's service")
    state = await heartbeats.ping(deps, hb, kind, now)
    return {"heartbeat": ident, "status": state.status.value}


async def ping(request: Request, ident: str, kind: PingKind = PingKind.SUCCESS) -> dict[str, Any]:
    return await _ping(request, ident, None, kind)


async def ping_with_key(
    request: Request, ident: str, key: str, kind: PingKind = PingKind.SUCCESS
) -> dict[str, Any]:
    return await _ping(request, ident, key, kind)


# A ping comes from a cron job or a script: it proves itself with the service's integration key.
PING = anonymous("a heartbeat ping authenticates with its service's integration key")
PING_ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No integration key, or an unknown one"},
    404: {"description": "No such heartbeat in the key's service"},
}

for _method in ("GET", "POST"):
    # One route per method: FastAPI gives a multi-method route one operation id for both.
    router.add_api_route(
        "/heartbeats/{ident}/ping",
        ping,
        methods=[_method],
        operation_id=f"heartbeat_ping_{_method.lower()}",
        summary="Ping a heartbeat (integration key in a header)",
        dependencies=[PING],
        responses=PING_ANSWERS,
    )
    router.add_api_route(
        "/heartbeats/{ident}/ping/{key}",
        ping_with_key,
        methods=[_method],
        operation_id=f"heartbeat_ping_key_in_path_{_method.lower()}",
        summary="Ping a heartbeat (integration key in the path)",
        dependencies=[PING],
        responses=PING_ANSWERS,
    )


def routes(_deps: Any) -> list[BaseRoute]:
    return list(router.routes)
