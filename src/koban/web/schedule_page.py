"""``/schedules/{ident}``: a schedule's week as a calendar: the final schedule (gaps in red), its
layers and overrides, a time-zone bar per member, the slots as a table; and an override made by
picking a slot ("cover this"), by the rules of ``paging/schedule_overrides.py``: a manager of the
team may add any override, a responder may hand over only their own shift; a swap asked for from a
slot and the open swaps taken, approved or canceled (``schedule_swaps_page.py``).

Times are entered and shown in the viewer's time zone; the schedule's own zone is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from koban.auth.permissions import Need, Principal, Scope, decide
from koban.auth.visibility import schedule_team
from koban.config.model_schedules import Override, Schedule
from koban.paging.schedule_overrides import made_by, refusal, store_overrides
from koban.paging.schedule_swaps import list_swaps
from koban.schedules.build import overrides, resolved, schedule
from koban.schedules.resolve import layer_spans
from koban.web import schedule_calendar as cal
from koban.web.deps import WebDeps, deps_of
from koban.web.guard import PageRefused, page_needs
from koban.web.i18n import format_short, zone
from koban.web.incidents_list import origin_of
from koban.web.render import Viewer, render, viewer_of

router = APIRouter(include_in_schema=False)
DAYS = 7
KINDS = ("replace", "add", "remove")
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">


def _schedule(request: Request, ident: str) -> Schedule:
    sched: Schedule | None = deps_of(request).catalog.schedules.get(ident)
    if sched is None:
        raise PageRefused(404, f"schedule {ident} does not exist")
    return sched


@dataclass(frozen=True)
class SlotPost:
    """What every form posted from a schedule's slots starts with: the schedule (the catalog
    refreshed first, so a form never acts on a schedule the YAML just removed), who posts, the
    form and the week shown, to come back to."""

    deps: WebDeps
    sched: Schedule
    viewer: Viewer
    form: FormData
    week: str


async def read_slot_post(request: Request, ident: str, max_fields: int) -> SlotPost:
    deps = deps_of(request)
    await deps.refresh_catalog()
    sched = _schedule(request, ident)
    viewer = await viewer_of(request)
    form = await request.form(max_fields=max_fields)
    return SlotPost(deps, sched, viewer, form, str(form.get("week", ""))[:10])


def _week_start(start: str, now: float, viewer: Viewer) -> datetime:
    try:
        day = date.fromisoformat(start[:10])
    except ValueError:
        day = datetime.fromtimestamp(now, viewer.tz).date()
    return datetime(day.year, day.month, day.day, tzinfo=viewer.tz)


def _pick(pick: str, viewer: Viewer) -> tuple[str, str] | None:
    """``<start>:<end>`` (epoch seconds) as the form's local start and end."""
    a, _, b = pick.partition(":")
    if not (a.isdigit() and b.isdigit()) or len(a) > 12 or len(b) > 12:
        return None
    return tuple(datetime.fromtimestamp(int(x), viewer.tz).strftime(LOCAL_INPUT) for x in (a, b))  # type: ignore[return-value]


async def _show(
    request: Request,
    viewer: Viewer,
    sched: Schedule,
    start: str,
    pick: str = "",
    message: str = "",
    status: int = 200,
) -> Response:
    deps = deps_of(request)
    catalog = deps.catalog
    now = deps.clock.now()
    first = _week_start(start, now, viewer)
    axis = cal.Axis(first.timestamp(), (first + timedelta(days=DAYS)).timestamp())

    def fmt(t: float) -> str:
        return format_short(t, viewer.lang, viewer.tz)

    final = resolved(sched, axis.start, axis.end, catalog)
    sched_tz = zone(sched.timezone)
    model = schedule(sched)
    lanes = [cal.lane("final", axis, ((s.start, s.end, s.people) for s in final), fmt, gap_text="gap")]
    for i, layer in enumerate(model.layers):
        spans = layer_spans(layer, sched_tz, axis.start, axis.end)
        lanes.append(cal.lane(layer.name or f"layer {i + 1}", axis, ((a, b, (p,)) for a, b, p in spans), fmt))
    made = [o for o in overrides(sched, catalog) if o.end > axis.start and o.start < axis.end]
    lanes.append(cal.lane("overrides", axis, ((o.start, o.end, (o.person,)) for o in made), fmt))
    members = list(dict.fromkeys(p for layer in sched.layers for p in layer.members))
    zones = []
    for p in members:
        person = catalog.people.get(p)
        tz = zone(getattr(person, "timezone", None) or sched.timezone)
        lane = cal.Lane(p, note=f"{tz.key} · {datetime.fromtimestamp(now, tz).strftime('%H:%M')}")
        for a, b in cal.nights(axis, tz):
            lane.boxes.append(
                cal.Box(axis.x(a), axis.x(b) - axis.x(a), "#c9cfd8", "", f"{p}: {fmt(a)} – {fmt(b)}")
            )
        zones.append(lane)
    who: Principal = request.state.principal
    may_override = bool(viewer.csrf) and decide(who, Need(Scope.RESPOND, sched.team)).allowed
    picked = _pick(pick, viewer) if may_override else None
    week = first.date()
    open_swaps = await list_swaps(deps.db, sched.id, "open") if may_override else []
    return render(
        viewer,
        "schedule.html",
        status,
        s=sched,
        lanes=lanes,
        zones=zones,
        days=cal.days(axis, viewer.tz, lambda d: d.strftime("%m-%d %a")),
        width=cal.WIDTH,
        label_width=cal.LABEL,
        row=cal.ROW,
        top=cal.TOP,
        height=cal.height(len(lanes)),
        zones_height=cal.height(len(zones)),
        fits=cal.fits,
        final=final,
        made=made,
        prev_url=f"/schedules/{sched.id}?" + urlencode({"start": (week - timedelta(days=DAYS)).isoformat()}),
        next_url=f"/schedules/{sched.id}?" + urlencode({"start": (week + timedelta(days=DAYS)).isoformat()}),
        week=week.isoformat(),
        may_override=may_override,
        manager=decide(who, Need(Scope.MANAGE, sched.team)).allowed,
        picked=picked,
        picked_people=next(
            (s.people for s in final if picked and f"{int(s.start)}:{int(s.end)}" == pick), ()
        ),
        people=sorted(catalog.people),
        kinds=KINDS,
        message=message,
        now=now,
        me=who.person_id,
        open_swaps=open_swaps,
    )


@router.get("/schedules/{ident}", dependencies=[page_needs(Scope.READ, schedule_team)])
async def schedule_page(request: Request, ident: str, start: str = "", pick: str = "") -> Response:
    await deps_of(request).refresh_catalog()
    return await _show(request, await viewer_of(request), _schedule(request, ident), start[:10], pick[:32])


def _override(form: Any, viewer: Viewer) -> Override:
    def when(name: str) -> datetime:
        return datetime.strptime(str(form.get(name, ""))[:16], LOCAL_INPUT).replace(tzinfo=viewer.tz)

    replaces = str(form.get("replaces", "")) or None
    kind = str(form.get("kind", "replace"))
    return Override.model_validate(
        {
            "start": when("start"),
            "end": when("end"),
            "person": str(form.get("person", ""))[:128],
            "kind": kind,
            "replaces": replaces if kind == "replace" else None,
            "note": str(form.get("note", ""))[:500],
        }
    )


@router.post("/schedules/{ident}/overrides", dependencies=[page_needs(Scope.RESPOND, schedule_team)])
async def add_override(request: Request, ident: str) -> Response:
    post = await read_slot_post(request, ident, max_fields=20)
    deps, sched, viewer, form, week = post.deps, post.sched, post.viewer, post.form, post.week
    try:
        body = _override(form, viewer)
    except (ValueError, ValidationError) as exc:
        text = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else "give a start and an end"
        return await _show(request, viewer, sched, week, message=text, status=422)
    who: Principal = request.state.principal
    refused = refusal(who, sched, body, deps.catalog)
    if refused is not None:
        return await _show(request, viewer, sched, week, message=refused[1], status=refused[0])
    override = made_by(body, who.person_id)
    async with deps.db.begin() as conn:
        await store_overrides(
            conn,
            origin_of(request),
            deps.clock.now(),
            deps.catalog,
            ident,
            ([override], []),
            "schedules.override.create",
            [],
        )
    await deps.refresh_catalog(force=True)
    return RedirectResponse(f"/schedules/{ident}?" + urlencode({"start": week}), status_code=303)
