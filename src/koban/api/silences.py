"""REST: silences and maintenance windows (create, list, get, expire/delete).

The same shapes as the YAML file (``config/model_routing.py``). Objects made here have origin
"api", so ``koban config apply`` neither changes nor prunes them. "Deleting" a silence expires it
now (Alertmanager's semantics: the history stays); deleting a maintenance window removes it.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.routing import BaseRoute

from koban.api.access import (
    READ,
    maintenance_team,
    need,
    one_team,
    silence_team,
    silenced_services,
    visible_teams,
)
from koban.api.deps import ApiDeps, deps_of
from koban.auth.audit import Change, record
from koban.auth.guard import origin_of
from koban.auth.permissions import Scope
from koban.catalog.routing_apply import row_values
from koban.config.model_routing import Maintenance, MatcherSpec, Silence
from koban.db import schema_routing as r
from koban.routing.silences import expire

router = APIRouter(prefix="/api/v1", tags=["routing"])


class NewSilence(BaseModel):
    matchers: list[str | MatcherSpec] = Field(
        min_length=1, examples=[['service="db"', 'alertname=~"Disk.*"']]
    )
    starts_at: datetime | None = None  # default: now
    ends_at: datetime
    created_by: str = Field(min_length=1)
    comment: str = ""


def _now(deps: ApiDeps) -> datetime:
    return datetime.fromtimestamp(deps.clock.now(), UTC)


def _silence_json(model: Silence, updated_at: float, origin: str, now: datetime) -> dict[str, Any]:
    pure = model.to_silence(datetime.fromtimestamp(updated_at, UTC))
    return {**model.model_dump(mode="json"), "origin": origin, "state": pure.state(now).value}


@router.post(
    "/silences",
    status_code=201,
    summary="Create a silence",
    dependencies=[need(Scope.RESPOND, silence_team)],
)
async def create_silence(request: Request, body: NewSilence) -> dict[str, Any]:
    deps = deps_of(request)
    now = _now(deps)
    try:
        model = Silence(
            id=f"sil-{secrets.token_hex(6)}", **{**body.model_dump(), "starts_at": body.starts_at or now}
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    async with deps.db.begin() as conn:
        await conn.execute(
            sa.insert(r.silences).values(
                id=model.id, **row_values("silences", model, deps.clock.now(), "api")
            )
        )
        after = model.model_dump(mode="json")
        await record(
            conn,
            origin_of(request),
            [Change("silences.create", "silences", model.id, None, after)],
            deps.clock.now(),
        )
    await deps.refresh_catalog(force=True)
    return _silence_json(model, deps.clock.now(), "api", now)


@router.get(
    "/silences", summary="List silences with their state (pending, active, expired)", dependencies=[READ]
)
async def list_silences(request: Request, state: str | None = None) -> dict[str, Any]:
    deps = deps_of(request)
    now = _now(deps)
    async with deps.db.read() as conn:
        rows = list(await conn.execute(sa.select(r.silences).order_by(r.silences.c.ends_at.desc())))
    teams = visible_teams(request)
    catalog = deps.catalog
    items = [
        _silence_json(Silence.model_validate(x.definition), x.updated_at, x.origin, now)
        for x in rows
        if teams is None or one_team(catalog, silenced_services(x.definition.get("matchers"))) in teams
    ]
    return {"silences": [s for s in items if state is None or s["state"] == state]}


@router.delete(
    "/silences/{ident}", summary="Expire a silence now", dependencies=[need(Scope.RESPOND, silence_team)]
)
async def expire_silence(request: Request, ident: str) -> dict[str, Any]:
    deps = deps_of(request)
    now = _now(deps)
    async with deps.db.begin() as conn:
        row = (await conn.execute(sa.select(r.silences).where(r.silences.c.id == ident))).first()
        if row is None:
            raise HTTPException(404, f"silence {ident} does not exist")
        model = Silence.model_validate(row.definition)
        ended = expire(model.to_silence(datetime.fromtimestamp(row.updated_at, UTC)), now)
        model = model.model_copy(update={"starts_at": ended.starts_at, "ends_at": ended.ends_at})
        values = row_values("silences", model, deps.clock.now(), row.origin)
        await conn.execute(sa.update(r.silences).where(r.silences.c.id == ident).values(**values))
        change = Change("silences.expire", "silences", ident, row.definition, model.model_dump(mode="json"))
        await record(conn, origin_of(request), [change], deps.clock.now())
    await deps.refresh_catalog(force=True)
    return _silence_json(model, deps.clock.now(), row.origin, now)


@router.post(
    "/maintenance",
    status_code=201,
    summary="Create a maintenance window",
    dependencies=[need(Scope.MANAGE, maintenance_team)],
)
async def create_window(request: Request, body: Maintenance) -> dict[str, Any]:
    deps = deps_of(request)
    await deps.refresh_catalog()
    unknown = [s for s in body.services if s not in deps.catalog.services]
    if unknown:
        raise HTTPException(422, f"unknown service(s) {unknown}")
    async with deps.db.begin() as conn:
        if (
            await conn.execute(
                sa.select(r.maintenance_windows.c.id).where(r.maintenance_windows.c.id == body.id)
            )
        ).first():
            raise HTTPException(409, f"maintenance window {body.id} already exists")
        await conn.execute(
            sa.insert(r.maintenance_windows).values(
                id=body.id, **row_values("maintenance", body, deps.clock.now(), "api")
            )
        )
        change = Change("maintenance.create", "maintenance", body.id, None, body.model_dump(mode="json"))
        await record(conn, origin_of(request), [change], deps.clock.now())
    await deps.refresh_catalog(force=True)
    return _window_json(body, "api", _now(deps))


def _window_json(model: Maintenance, origin: str, now: datetime) -> dict[str, Any]:
    from koban.routing.maintenance import is_active

    return {**model.model_dump(mode="json"), "origin": origin, "active": is_active(model.to_window(), now)}


@router.get(
    "/maintenance", summary="List maintenance windows and whether each is active now", dependencies=[READ]
)
async def list_windows(request: Request) -> dict[str, Any]:
    deps = deps_of(request)
    async with deps.db.read() as conn:
        rows = list(await conn.execute(sa.select(r.maintenance_windows).order_by(r.maintenance_windows.c.id)))
    teams = visible_teams(request)
    return {
        "maintenance": [
            _window_json(Maintenance.model_validate(x.definition), x.origin, _now(deps))
            for x in rows
            if teams is None or one_team(deps.catalog, x.definition.get("services", [])) in teams
        ]
    }


@router.delete(
    "/maintenance/{ident}",
    status_code=204,
    summary="Delete a maintenance window",
    dependencies=[need(Scope.MANAGE, maintenance_team)],
)
async def delete_window(request: Request, ident: str) -> None:
    deps = deps_of(request)
    mw = r.maintenance_windows
    async with deps.db.begin() as conn:
        before = (await conn.execute(sa.select(mw.c.definition).where(mw.c.id == ident))).scalar_one_or_none()
        if before is None:
            raise HTTPException(404, f"maintenance window {ident} does not exist")
        await conn.execute(sa.delete(mw).where(mw.c.id == ident))
        change = Change("maintenance.delete", "maintenance", ident, before, None)
        await record(conn, origin_of(request), [change], deps.clock.now())
    await deps.refresh_catalog(force=True)


def routes(_deps: Any) -> list[BaseRoute]:
    return list(router.routes)
