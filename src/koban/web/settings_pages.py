"""``/settings``: the index, people and their contacts, teams and their members, channels and
whether they work.

People, teams and channels are configuration objects: each says whether config as code manages
it (``settings_rules.yaml_managed``, from its newest audit entry), and a managed one is shown
read-only with a note saying so. Lists follow the REST API's rule (``auth/visibility.py``): a team
member sees their teams' objects and those no team owns; a global role sees all. Clearing a
channel's broken mark is the REST route's own function (``paging/broken_channels.repair``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from koban.auth.audit import last_doors
from koban.auth.permissions import Need, Principal, Scope, decide
from koban.auth.visibility import visible_teams
from koban.db.schema_auth import memberships, users
from koban.paging.broken_channels import channel_states, repair
from koban.paging.channel_outcomes import recent_outcomes
from koban.web.deps import deps_of
from koban.web.guard import PageRefused, page_needs
from koban.web.incidents_list import origin_of
from koban.web.render import render, viewer_of
from koban.web.settings_rules import sections_for, yaml_managed

router = APIRouter(include_in_schema=False)
READ, ADMIN = page_needs(Scope.READ), page_needs(Scope.ADMIN)
MAX_ID = 200


def shown(who: Principal, objects: Any) -> list[Any]:
    """The objects a list shows this person, by id (the REST lists' rule)."""
    teams = visible_teams(who)
    return sorted(
        (o for o in objects.values() if teams is None or getattr(o, "team", None) in teams),
        key=lambda o: o.id,
    )


def may_edit(request: Request) -> bool:
    """Administrators edit people, teams and channels (``settings_edit.py``), add and delete teams
    and channels (``settings_lifecycle.py``), as on the REST API."""
    return decide(request.state.principal, Need(Scope.ADMIN)).allowed


async def managed(request: Request, kind: str, ids: list[str]) -> set[str]:
    async with deps_of(request).db.read() as conn:
        doors = await last_doors(conn, kind, ids)
    return {i for i in ids if yaml_managed(doors.get(i))}


@router.get("/settings", dependencies=[READ])
async def settings_index(request: Request) -> Response:
    viewer = await viewer_of(request)
    return render(viewer, "settings.html", nav="settings", sections=sections_for(request.state.principal))


@router.get("/settings/people", dependencies=[READ])
async def people_page(request: Request, saved: str = "") -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    people = shown(request.state.principal, deps.catalog.people)
    ids = [p.id for p in people]
    async with deps.db.read() as conn:
        logins = {
            r.person_id: r for r in await conn.execute(sa.select(users).where(users.c.person_id.in_(ids)))
        }
    return render(
        await viewer_of(request),
        "settings_people.html",
        nav="settings",
        people=people,
        logins=logins,
        managed=await managed(request, "people", ids),
        may_edit=may_edit(request),
        saved=saved[:MAX_ID],  # the edit form's redirect: what it saved, said once
    )


@router.get("/settings/teams", dependencies=[READ])
async def teams_page(request: Request, saved: str = "", deleted: str = "") -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    teams = shown(request.state.principal, deps.catalog.teams)
    ids = [t.id for t in teams]
    members: dict[str, list[Any]] = {i: [] for i in ids}
    async with deps.db.read() as conn:
        q = sa.select(memberships).where(memberships.c.team_id.in_(ids)).order_by(memberships.c.person_id)
        for m in await conn.execute(q):
            members[m.team_id].append(m)
    return render(
        await viewer_of(request),
        "settings_teams.html",
        nav="settings",
        teams=teams,
        members=members,
        managed=await managed(request, "teams", ids),
        may_edit=may_edit(request),
        saved=saved[:MAX_ID],  # the edit form's redirect: what it saved, said once
        deleted=deleted[:MAX_ID],
    )


@router.get("/settings/channels", dependencies=[READ])
async def channels_page(request: Request, repaired: str = "", saved: str = "", deleted: str = "") -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    channels = shown(request.state.principal, deps.catalog.channels)
    ids = [c.id for c in channels]
    async with deps.db.read() as conn:
        states = {s["id"]: s for s in await channel_states(conn)}
        outcomes = await recent_outcomes(conn, ids)
    viewer = await viewer_of(request)
    may_repair = bool(viewer.csrf) and decide(request.state.principal, Need(Scope.ADMIN)).allowed
    return render(
        viewer,
        "settings_channels.html",
        nav="settings",
        channels=channels,
        states=states,
        outcomes=outcomes,
        may_repair=may_repair,
        repaired=repaired[:MAX_ID],
        managed=await managed(request, "channels", ids),
        may_edit=may_edit(request),
        saved=saved[:MAX_ID],  # the edit form's redirect: what it saved, said once
        deleted=deleted[:MAX_ID],
    )


@router.post("/settings/channels/{ident}/repair", dependencies=[ADMIN])
async def repair_channel(request: Request, ident: str) -> Response:
    """Clear a broken mark once the vendor side is fixed (``DELETE /api/v1/channel-status/{id}/broken``)."""
    deps = deps_of(request)
    await deps.refresh_catalog()
    if ident not in deps.catalog.channels:
        raise PageRefused(404, f"channels/{ident[:MAX_ID]} does not exist")
    async with deps.db.begin() as conn:
        await repair(conn, origin_of(request), deps.clock.now(), ident)
    await deps.refresh_catalog(force=True)
    return RedirectResponse(f"/settings/channels?repaired={quote(ident, safe='')}", status_code=303)
