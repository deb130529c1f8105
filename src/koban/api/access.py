"""Who may call each REST route: the guards the routers use, and how a route finds the team that
owns what it touches (from the catalog; an incident through its service).

Reading needs membership of any team (lists) or of the owning team (one object); responding and
managing need that role in the owning team; people, channels, teams and keys need admin.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from fastapi import Depends, Request

from koban.api.deps import deps_of
from koban.auth import visibility
from koban.auth.guard import TeamOf, ensure, public, requires
from koban.auth.permissions import Need, Scope
from koban.auth.visibility import current_catalog, service_team
from koban.auth.visibility import incident_team as incident_team  # the routes' TeamOf, shared with the web


async def _catalog(request: Request) -> Any:
    return await current_catalog(request)


def _service_team(catalog: Any, service_id: str | None) -> str | None:
    return service_team(catalog, service_id)


async def _body_field(request: Request, name: str) -> Any:
    """A field of the JSON body, for a write's new owner (None when absent or not JSON: the route's
    own validation then answers 422)."""
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None


def object_team(kind: str) -> TeamOf:
    """The team of ``/{kind}/{ident}``: the existing object's, else the body's (a new object)."""

    async def team_of(request: Request) -> str | None:
        catalog = await _catalog(request)
        obj = getattr(catalog, kind).get(request.path_params.get("ident", ""))
        if obj is not None:
            return getattr(obj, "team", None)
        team = await _body_field(request, "team")
        return team if isinstance(team, str) else None

    return team_of


async def monitor_team(request: Request) -> str | None:
    catalog = await _catalog(request)
    mon = catalog.monitors.get(request.path_params.get("ident", ""))
    service = mon.service if mon is not None else await _body_field(request, "service")
    return _service_team(catalog, service if isinstance(service, str) else None)


def one_team(catalog: Any, services: list[str]) -> str | None:
    """The team that owns every one of these services, or None (no service, no team, or several:
    then only a global role may act)."""
    teams = {_service_team(catalog, s) for s in services}
    return teams.pop() if len(teams) == 1 and services else None


def silenced_services(matchers: Any) -> list[str]:
    """The services a silence names with an equality matcher (``service="web"`` or Alertmanager's
    object shape); a silence that names none is not any one team's."""
    from koban.routing.matchers import MatchOp, parse_matcher

    found: list[str] = []
    for m in matchers if isinstance(matchers, list) else []:
        try:
            parsed = parse_matcher(m) if isinstance(m, str) else None
        except ValueError:
            continue
        if parsed is not None and parsed.name == "service" and parsed.op is MatchOp.EQ:
            found.append(parsed.value)
        elif (
            isinstance(m, dict)
            and m.get("name") == "service"
            and not m.get("isRegex")
            and m.get("isEqual", True)
        ):
            found.append(str(m.get("value")))
    return found


async def _stored_definition(request: Request, table: Any) -> Any:
    deps = deps_of(request)
    async with deps.db.read() as conn:
        return (
            await conn.execute(
                sa.select(table.c.definition).where(table.c.id == request.path_params.get("ident"))
            )
        ).scalar_one_or_none()


async def silence_team(request: Request) -> str | None:
    from koban.db import schema_routing as r

    stored = await _stored_definition(request, r.silences) if "ident" in request.path_params else None
    matchers = stored.get("matchers") if isinstance(stored, dict) else await _body_field(request, "matchers")
    return one_team(await _catalog(request), silenced_services(matchers))


async def maintenance_team(request: Request) -> str | None:
    from koban.db import schema_routing as r

    stored = (
        await _stored_definition(request, r.maintenance_windows) if "ident" in request.path_params else None
    )
    services = stored.get("services") if isinstance(stored, dict) else await _body_field(request, "services")
    return one_team(await _catalog(request), [s for s in services or [] if isinstance(s, str)])


async def heartbeat_team(request: Request) -> str | None:
    from koban.db import schema_routing as r

    stored = await _stored_definition(request, r.heartbeats)
    service = stored.get("service") if isinstance(stored, dict) else await _body_field(request, "service")
    return _service_team(await _catalog(request), service if isinstance(service, str) else None)


def need(scope: Scope, team_of: TeamOf | None = None) -> Any:
    """``dependencies=[need(Scope.X, team_of)]`` on a route."""
    return Depends(requires(scope, team_of))


def anonymous(why: str) -> Any:
    return Depends(public(why))


READ = need(Scope.READ)
ADMIN = need(Scope.ADMIN)


def acting(request: Request, claimed: str | None) -> str:
    """Who an action is recorded as: the caller; an administrator may act for someone else."""
    who = request.state.principal
    if claimed and claimed != who.person_id:
        ensure(request, Need(Scope.ADMIN))
        return claimed
    return str(who.person_id)


def visible_teams(request: Request) -> set[str | None] | None:
    """The teams whose objects a list shows the caller (``auth.visibility``)."""
    return visibility.visible_teams(request.state.principal)


async def visible_services(request: Request) -> list[str] | None:
    """Service ids whose incidents and monitors a list shows the caller (None: all)."""
    return visibility.visible_services(request.state.principal, await _catalog(request))
