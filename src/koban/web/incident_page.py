"""``/incidents/{id}``: one incident (the page every Slack, email and SMS link opens): its whole
timeline, time to wake, frozen escalation plan, notifications, linked alerts and labels, and the
acknowledge, resolve, escalate and reassign forms.

Escalate carries the step and loop the page showed (``seen``): a form posted again after the
incident moved on is refused instead of skipping a second step, as in every other door.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import RedirectResponse, Response

from koban.auth.permissions import Need, Principal, Scope, decide
from koban.auth.visibility import incident_team, service_team
from koban.channels.actions import IncidentAction
from koban.domain.plan import Plan
from koban.domain.time_to_wake import Moment, TimeToWake
from koban.paging.actions import NotFound
from koban.paging.incident_view import IncidentView, load_incident
from koban.paging.public_updates import STATUSES, NoIncident, add_update, check, updates_of
from koban.web.deps import deps_of
from koban.web.guard import PageRefused, page_needs
from koban.web.incidents_list import origin_of
from koban.web.render import Viewer, render, viewer_of
from koban.web.status_page import WORDS

router = APIRouter(include_in_schema=False)
IncidentId = Annotated[int, Path(ge=1, le=2**63 - 1)]
RESPOND = page_needs(Scope.RESPOND, incident_team)
MAX_STEP = 10_000


async def _load(request: Request, incident_id: int) -> tuple[IncidentView, list[Any]]:
    async with deps_of(request).db.read() as conn:
        found = await load_incident(conn, incident_id)
        public = (await updates_of(conn, [incident_id])).get(incident_id, [])
    if found is None:
        raise PageRefused(404, f"incident {incident_id} does not exist")
    return found, public


def _brief(data: Any) -> str:
    """A timeline entry's details in one line (shown as text, escaped like everything else)."""
    if not data:
        return ""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)[:500]


async def _show(
    request: Request,
    viewer: Viewer,
    incident_id: int,
    message: str = "",
    status: int = 200,
    draft: tuple[str, str] = ("investigating", ""),
) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    found, public = await _load(request, incident_id)
    who: Principal = request.state.principal
    team = service_team(deps.catalog, found.incident.service_id)
    may_respond = bool(viewer.csrf) and decide(who, Need(Scope.RESPOND, team)).allowed
    return render(
        viewer,
        "incident.html",
        status,
        team=team,
        may_respond=may_respond,
        message=message,
        brief=_brief,
        incident=found.incident,
        timeline=found.timeline,
        alerts=found.alerts,
        deliveries=found.deliveries,
        wake=_wake(found.wake),
        plan=_plan(found.incident.plan, found.incident.esc_loop),
        people=sorted(deps.catalog.people) if may_respond else [],
        public_updates=public,
        public_statuses=STATUSES,
        words=WORDS,
        draft=draft,
    )


@router.get("/incidents/{incident_id}", dependencies=[page_needs(Scope.READ, incident_team)])
async def incident_page(request: Request, incident_id: IncidentId) -> Response:
    return await _show(request, await viewer_of(request), incident_id)


def _seen(form: Any) -> tuple[int, int] | None:
    step, loop = str(form.get("seen_step", "")), str(form.get("seen_loop", "0"))
    if not (step.isdigit() and loop.isdigit()):
        return None
    return min(int(step), MAX_STEP), min(int(loop), MAX_STEP)


async def _act(request: Request, incident_id: int, action: IncidentAction) -> Response:
    deps = deps_of(request)
    form = await request.form(max_fields=10)
    note = str(form.get("note", ""))[:2000] or None
    who: Principal = request.state.principal
    viewer = await viewer_of(request)
    try:
        res = await deps.actions.act(
            incident_id,
            action,
            actor=who.person_id,
            via="ui",
            note=note,
            seen=_seen(form) if action is IncidentAction.ESCALATE else None,
            origin=origin_of(request),
        )
    except NotFound:
        raise PageRefused(404, f"incident {incident_id} does not exist") from None
    if not res.ok:
        return await _show(request, viewer, incident_id, res.text(viewer.lang), 409)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)  # a reload does not re-post


@router.post("/incidents/{incident_id}/acknowledge", dependencies=[RESPOND])
async def acknowledge(request: Request, incident_id: IncidentId) -> Response:
    return await _act(request, incident_id, IncidentAction.ACKNOWLEDGE)


@router.post("/incidents/{incident_id}/resolve", dependencies=[RESPOND])
async def resolve(request: Request, incident_id: IncidentId) -> Response:
    return await _act(request, incident_id, IncidentAction.RESOLVE)


@router.post("/incidents/{incident_id}/escalate", dependencies=[RESPOND])
async def escalate(request: Request, incident_id: IncidentId) -> Response:
    return await _act(request, incident_id, IncidentAction.ESCALATE)


@router.post("/incidents/{incident_id}/reassign", dependencies=[RESPOND])
async def reassign(request: Request, incident_id: IncidentId) -> Response:
    """Hand the incident to a person: paged at once, as ``POST /api/v1/incidents/{id}/reassign``.
    Posted twice, the second pages the same person again (as the API's does): the form says so."""
    deps = deps_of(request)
    form = await request.form(max_fields=10)
    person = str(form.get("person", ""))[:128]
    who: Principal = request.state.principal
    viewer = await viewer_of(request)
    if person not in deps.catalog.people:
        return await _show(request, viewer, incident_id, f"no person {person!r}", 422)
    try:
        res = await deps.actions.reassign(
            incident_id, person, actor=who.person_id, via="ui", origin=origin_of(request)
        )
    except NotFound:
        raise PageRefused(404, f"incident {incident_id} does not exist") from None
    if not res.ok:
        return await _show(request, viewer, incident_id, res.text(viewer.lang), 409)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.post("/incidents/{incident_id}/public-updates", dependencies=[RESPOND])
async def public_update(request: Request, incident_id: IncidentId) -> Response:
    """Tell the public: shown on every status page listing the incident's service (as
    ``POST /api/v1/incidents/{id}/public_updates``; audited, on the timeline)."""
    deps = deps_of(request)
    form = await request.form(max_fields=10)
    state, text = str(form.get("status", ""))[:32], str(form.get("message", ""))[:4000]
    viewer = await viewer_of(request)
    problem = check(state, text)
    if problem is not None:
        return await _show(request, viewer, incident_id, problem, 422, (state, text))
    try:
        await add_update(deps.db, incident_id, state, text, origin_of(request), deps.clock.now())
    except NoIncident:
        raise PageRefused(404, f"incident {incident_id} does not exist") from None
    return RedirectResponse(f"/incidents/{incident_id}#public-updates", status_code=303)


WAKE_STEPS = ("first_failure", "first_page", "first_reached", "acknowledged")


def _wake(w: TimeToWake) -> list[tuple[str, Moment | None]]:
    """The four moments in order, for the page's table."""
    return [(name, getattr(w, name)) for name in WAKE_STEPS]


def _plan(stored: Any, loop: int) -> list[dict[str, Any]]:
    """The frozen plan's steps as the page lists them: whom each pages (in the current loop)."""
    if not isinstance(stored, dict) or not stored.get("steps"):
        return []
    try:
        plan = Plan.from_json(stored)
    except (KeyError, TypeError, ValueError):
        return []  # a plan stored by an older koban: the page still shows the rest
    return [
        {
            "label": step.label,
            "timeout": int(step.timeout),
            "targets": [
                f"@{x.schedule}" if x.schedule else (x.person_for(loop) or "") + f" ({x.channel})"
                for x in step.targets
            ],
        }
        for step in plan.steps
    ]
