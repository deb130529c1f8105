"""REST: the configuration objects (people, rotations, schedules, channels, policies, services, log
clusters, digests, log rules, status pages), the same shapes as the YAML file, validated the same
way (including cross-references)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from koban.api.access import ADMIN, READ, need, object_team, visible_teams
from koban.api.deps import deps_of
from koban.api.redact import redact, restore
from koban.auth.audit import Change, record
from koban.auth.guard import ensure, origin_of, requires
from koban.auth.permissions import Need, Scope
from koban.catalog.apply import apply_config
from koban.config.model import Channel, Person, Policy, Rotation, Service
from koban.config.model_logs import Digest, LogCluster, LogRule
from koban.config.model_schedules import Schedule
from koban.config.model_status import StatusPage
from koban.config.model_teams import Team
from koban.config.references import check_references
from koban.db import schema as t
from koban.db.schema_auth import teams
from koban.db.schema_logs import digests, log_clusters, log_rules
from koban.db.schema_schedules import schedules
from koban.db.schema_status import status_pages
from koban.ingest import key_admin

router = APIRouter(prefix="/api/v1", tags=["configuration"])

KINDS: dict[str, tuple[type[BaseModel], sa.Table]] = {
    "teams": (Team, teams),
    "people": (Person, t.people),
    "rotations": (Rotation, t.rotations),
    "schedules": (Schedule, schedules),
    "channels": (Channel, t.channels),
    "policies": (Policy, t.policies),
    "services": (Service, t.services),
    # docs/logs.md; their runs and state: api/logs.py
    "log_clusters": (LogCluster, log_clusters),
    "digests": (Digest, digests),
    "log_rules": (LogRule, log_rules),
    # Public status pages (docs/web.md): written by administrators only, since they decide what is public
    "status_pages": (StatusPage, status_pages),
}


async def _save(
    request: Request, kind: str, obj: BaseModel | None, ident: str, action: str | None = None
) -> None:
    """Write one object by applying the whole config with it replaced: one validation path for both doors.
    ``action``: what the audit trail calls it, when more precise than create/update/delete."""
    deps = deps_of(request)
    await deps.refresh_catalog()
    cfg = deps.catalog.as_config()
    items = [o for o in getattr(cfg, kind) if o.id != ident] + ([obj] if obj is not None else [])
    new = cfg.model_copy(update={kind: items})
    problems = check_references(new)
    if problems:
        raise HTTPException(422, [{"loc": list(loc), "msg": msg} for loc, msg in problems])
    old = getattr(deps.catalog, kind).get(ident)
    verb = "delete" if obj is None else ("create" if old is None else "update")
    change = Change(
        action or f"{kind}.{verb}",
        kind,
        ident,
        redact(old.model_dump(mode="json")) if old is not None else None,
        redact(obj.model_dump(mode="json")) if obj is not None else None,
    )
    async with deps.db.begin() as conn:
        now = deps.clock.now()
        await apply_config(conn, new, now, sealer=deps.settings.sealer())
        await record(conn, origin_of(request), [change], now)
    await deps.refresh_catalog(force=True)


def _shown(obj: BaseModel) -> dict[str, Any]:
    """An object as the API shows it: its JSON shape (a dict stays a dict), secrets masked."""
    shown: dict[str, Any] = redact(obj.model_dump(mode="json"))
    return shown


# Who may write each kind: team-owned kinds by the team's managers, the rest by administrators.
TEAM_OWNED = {"rotations", "schedules", "policies", "services"}


def _register(kind: str, model: type[BaseModel]) -> None:
    write = requires(Scope.MANAGE, object_team(kind)) if kind in TEAM_OWNED else requires(Scope.ADMIN)
    write_dep = Depends(write)

    async def list_objects(request: Request) -> dict[str, Any]:
        deps = deps_of(request)
        await deps.refresh_catalog()
        teams = visible_teams(request)
        objects = [
            o
            for o in getattr(deps.catalog, kind).values()
            if teams is None or getattr(o, "team", None) in teams
        ]
        return {kind: [redact(o.model_dump(mode="json")) for o in objects]}

    async def get_object(request: Request, ident: str) -> dict[str, Any]:
        deps = deps_of(request)
        await deps.refresh_catalog()
        obj = getattr(deps.catalog, kind).get(ident)
        if obj is None:
            raise HTTPException(404, f"{kind}/{ident} does not exist")
        return _shown(obj)

    async def put_object(request: Request, ident: str, body: model) -> dict[str, Any]:  # type: ignore[valid-type]
        if body.id != ident:  # type: ignore[attr-defined]
            raise HTTPException(422, f"the body's id {body.id!r} differs from the URL's {ident!r}")  # type: ignore[attr-defined]
        old = getattr(deps_of(request).catalog, kind).get(ident)
        if old is not None and getattr(old, "team", None) != getattr(body, "team", None):
            ensure(request, Need(Scope.MANAGE, getattr(body, "team", None)))  # moving it: both teams
        if old is not None:
            merged = restore(body.model_dump(mode="json"), old.model_dump(mode="json"))  # type: ignore[attr-defined]
            body = model.model_validate(merged)
        await _save(request, kind, body, ident)
        return _shown(body)

    async def delete_object(request: Request, ident: str) -> dict[str, str]:
        deps = deps_of(request)
        if ident not in getattr(deps.catalog, kind):
            raise HTTPException(404, f"{kind}/{ident} does not exist")
        await _save(request, kind, None, ident)
        return {"deleted": f"{kind}/{ident}"}

    # Annotations are strings under __future__ annotations; hand FastAPI the real model class.
    put_object.__annotations__["body"] = model
    owner = object_team(kind)
    one = [need(Scope.READ, owner)]
    router.add_api_route(
        f"/{kind}", list_objects, methods=["GET"], summary=f"List {kind}", dependencies=[READ]
    )
    router.add_api_route(
        f"/{kind}/{{ident}}", get_object, methods=["GET"], summary=f"Get one of {kind}", dependencies=one
    )
    router.add_api_route(
        f"/{kind}/{{ident}}",
        put_object,
        methods=["PUT"],
        summary=f"Create or replace one of {kind}",
        dependencies=[write_dep],
    )
    router.add_api_route(
        f"/{kind}/{{ident}}",
        delete_object,
        methods=["DELETE"],
        summary=f"Delete one of {kind}",
        dependencies=[write_dep],
    )


for _kind, (_model, _) in KINDS.items():
    _register(_kind, _model)


class NewKey(BaseModel):
    integration: str
    key: str
    prefix: str
    note: str = "shown once: koban stores only its hash"


@router.post(
    "/integrations/{ident}/keys",
    response_model=NewKey,
    tags=["integrations"],
    summary="Create an integration key (two may be active during rotation)",
    dependencies=[ADMIN],
)
async def create_key(request: Request, ident: str) -> NewKey:
    deps = deps_of(request)
    if ident not in deps.catalog.integrations:
        raise HTTPException(404, f"integration {ident!r} does not exist")
    async with deps.db.begin() as conn:
        key = await key_admin.create_key(conn, origin_of(request), deps.clock.now(), ident)
    await deps.refresh_catalog(force=True)
    return NewKey(integration=ident, key=key, prefix=key[: key_admin.SHOWN])
