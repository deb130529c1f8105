"""What a caller may see, shared by the REST API and the web pages (neither imports the other).

An incident or a monitor belongs to the team of its service. A list shows a team member only their
teams' objects and those no team owns; a global role without a team limit sees everything.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa
from starlette.requests import Request

from koban.auth.permissions import Principal
from koban.db import schema as t
from koban.db.engine import Database

MAX_ID = 2**63 - 1  # ids are 64-bit in both databases


class CatalogDeps(Protocol):
    """What finding an owner needs of the app's deps (``request.app.state.deps``)."""

    db: Database

    @property
    def catalog(self) -> Any: ...

    async def refresh_catalog(self, force: bool = False) -> None: ...


async def current_catalog(request: Request) -> Any:
    deps: CatalogDeps = request.app.state.deps
    await deps.refresh_catalog()
    return deps.catalog


def service_team(catalog: Any, service_id: str | None) -> str | None:
    svc = catalog.services.get(service_id) if service_id else None
    return svc.team if svc is not None else None


async def incident_team(request: Request) -> str | None:
    """The team of ``{incident_id}`` in the path, through its service (None: unknown or no team)."""
    deps: CatalogDeps = request.app.state.deps
    try:
        ident = int(request.path_params.get("incident_id", "0"))
    except ValueError:
        return None
    if not 1 <= ident <= MAX_ID:
        return None  # the route answers 422
    async with deps.db.read() as conn:
        service = (
            await conn.execute(sa.select(t.incidents.c.service_id).where(t.incidents.c.id == ident))
        ).scalar_one_or_none()
    return service_team(await current_catalog(request), service)


def visible_teams(who: Principal) -> set[str | None] | None:
    """The teams whose objects a list shows: None for all (a global role without a team limit);
    else the caller's teams (or the token's one team) and objects no team owns."""
    if who.token_team is not None:
        return {who.token_team}
    if who.global_role is not None:
        return None
    return {None, *who.team_roles}


def visible_services(who: Principal, catalog: Any) -> list[str] | None:
    """Service ids whose incidents and monitors a list shows (None: all)."""
    teams = visible_teams(who)
    if teams is None:
        return None
    return [s.id for s in catalog.services.values() if s.team in teams]


async def monitor_team(request: Request) -> str | None:
    """The team of the monitor ``{ident}`` in the path, through its service (None: unknown)."""
    catalog = await current_catalog(request)
    mon = catalog.monitors.get(request.path_params.get("ident", ""))
    return service_team(catalog, mon.service) if mon is not None else None


async def schedule_team(request: Request) -> str | None:
    """The team of the schedule ``{ident}`` in the path (None: unknown or no team)."""
    sched = (await current_catalog(request)).schedules.get(request.path_params.get("ident", ""))
    return sched.team if sched is not None else None
