"""``/oncall``: who is on call now, per team and schedule, with the next handoffs; and the viewer's
own upcoming shifts with a link to add them to their calendar (an iCal feed, shown once).

Every schedule shown is resolved once (``schedules.build.resolved``, layers, overrides and
temporary schedules, as paging resolves them), 50 to a page, so the page costs the same with 1,000
schedules as with 50. A person's own shifts are looked for only in the schedules that name them
(or that an imported calendar fills). Imported calendars' shifts count, as when paging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from koban.auth.feeds import create_feed
from koban.auth.permissions import Principal, Scope
from koban.auth.visibility import visible_teams
from koban.paging.on_call import calendar_shifts_of
from koban.schedules.build import person_shifts, resolved
from koban.schedules.model import Slot
from koban.web.deps import deps_of
from koban.web.guard import page_needs
from koban.web.incidents_list import origin_of
from koban.web.render import Viewer, render, viewer_of

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
# Ahead only: the page shows when the current slot ends and the next handoffs, never when it began,
# so two weeks of each schedule are resolved (not the ±35 days ``on_call`` reads for a real start).
AHEAD = 14 * 86400.0
NEXT_HANDOFFS = 3
MY_DAYS = 28
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Row:
    schedule: Any  # config.model_schedules.Schedule
    now: Slot | None
    next: list[Slot]


def _row(s: Any, now: float, catalog: Any, cal: Any) -> Row:
    slots = resolved(s, now, now + AHEAD, catalog, cal.get(s.id, ()))
    i = next((i for i, x in enumerate(slots) if x.start <= now < x.end), None)
    if i is None:
        return Row(s, None, [])
    return Row(s, slots[i], slots[i + 1 : i + 1 + NEXT_HANDOFFS])


def my_shifts(person: str, now: float, catalog: Any, cal: Any) -> list[tuple[Any, Slot]]:
    return person_shifts(person, list(catalog.schedules.values()), now, now + MY_DAYS * 86400.0, catalog, cal)


async def _show(
    request: Request,
    viewer: Viewer,
    team: str,
    page: int,
    feed_url: str = "",
    status: int = 200,
    message: str = "",
) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    catalog = deps.catalog
    who: Principal = request.state.principal
    teams = visible_teams(who)
    shown = [
        s
        for s in sorted(catalog.schedules.values(), key=lambda s: (s.team or "", s.id))
        if (teams is None or s.team in teams) and (not team or s.team == team)
    ]
    now = deps.clock.now()
    page = max(0, min(page, MAX_PAGE))
    # Imported calendars' shifts count as when paging (docs/calendars.md): one query, none without them.
    async with deps.db.read() as conn:
        cal = await calendar_shifts_of(
            conn, catalog, catalog.schedules, now, now + max(AHEAD, MY_DAYS * 86400.0)
        )
    rows = [_row(s, now, catalog, cal) for s in shown[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]]
    all_teams = sorted(
        {s.team for s in catalog.schedules.values() if s.team and (teams is None or s.team in teams)}
    )
    query = {"team": team} if team else {}
    return render(
        viewer,
        "oncall.html",
        status,
        message=message,
        rows=rows,
        team=team,
        teams=all_teams,
        page=page,
        more=len(shown) > (page + 1) * PAGE_SIZE,
        next_url="/oncall?" + urlencode({**query, "page": page + 1}),
        prev_url="/oncall?" + urlencode({**query, "page": page - 1}),
        mine=my_shifts(who.person_id, now, catalog, cal),
        feed_url=feed_url,
    )


@router.get("/oncall", dependencies=[page_needs(Scope.READ)])
async def oncall_page(request: Request, team: str = "", page: int = 0) -> Response:
    return await _show(request, await viewer_of(request), team[:128], page)


@router.post("/oncall/feed", dependencies=[page_needs(Scope.READ)])
async def my_feed(request: Request) -> Response:
    """A new iCal URL of the viewer's own shifts, shown on this answer only (koban keeps its hash).
    Posted twice, it makes two URLs: each can be revoked (``DELETE /api/v1/feeds/{id}``)."""
    deps = deps_of(request)
    viewer = await viewer_of(request)
    who: Principal = request.state.principal
    form = await request.form(max_fields=5)
    if form.get("make") != "ical":  # only the page's button makes one (not any POST that gets in)
        return await _show(request, viewer, "", 0, status=422, message="use the page's button")
    async with deps.db.begin() as conn:
        _, path = await create_feed(
            conn, origin_of(request), deps.clock.now(), created_by=who.person_id, person=who.person_id
        )
    url = deps.settings.effective_public_url.rstrip("/") + path
    return await _show(request, viewer, "", 0, feed_url=url)
