"""The schedule page's swaps: ask for one from a picked slot, and take, approve or cancel an open one,
by the rules the REST API shares (``paging/schedule_swaps.py``): a responder swaps their own shifts, a
manager of the team anyone's; taking or approving writes the overrides, audits, and tells both people.

Forms only (no script): each answers with a redirect to the week, or the page again with the refusal.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from koban.auth.permissions import Principal, Scope
from koban.auth.visibility import schedule_team
from koban.paging import schedule_swaps as swaps
from koban.paging.schedule_swaps import SwapRefused, SwapRequest
from koban.web.guard import page_needs
from koban.web.incidents_list import origin_of
from koban.web.render import Viewer
from koban.web.schedule_page import LOCAL_INPUT, _show, read_slot_post

router = APIRouter(include_in_schema=False)
ACTIONS = {"take": "taken", "approve": "approved", "cancel": "canceled"}


def _ask(form: object, viewer: Viewer, who: Principal) -> SwapRequest:
    get = form.get  # type: ignore[attr-defined]

    def when(name: str) -> datetime:
        return datetime.strptime(str(get(name, ""))[:16], LOCAL_INPUT).replace(tzinfo=viewer.tz)

    requester = str(get("requester", ""))[:128] or None
    return SwapRequest.model_validate(
        {
            "start": when("start"),
            "end": when("end"),
            "taker": str(get("taker", ""))[:128] or None,  # empty: open to the team
            "note": str(get("note", ""))[:500],
            "requester": requester if requester != who.person_id else None,
        }
    )


def _back(ident: str, week: str) -> Response:
    return RedirectResponse(f"/schedules/{ident}?" + urlencode({"start": week}) + "#swaps", status_code=303)


@router.post("/schedules/{ident}/swaps", dependencies=[page_needs(Scope.RESPOND, schedule_team)])
async def ask_swap(request: Request, ident: str) -> Response:
    post = await read_slot_post(request, ident, max_fields=20)
    deps, sched, viewer, form, week = post.deps, post.sched, post.viewer, post.form, post.week
    who: Principal = request.state.principal
    try:
        body = _ask(form, viewer, who)
        await swaps.request_swap(deps, origin_of(request), who, sched, body)
    except ValidationError as exc:
        return await _show(request, viewer, sched, week, message=exc.errors()[0]["msg"], status=422)
    except ValueError:
        return await _show(request, viewer, sched, week, message="give a start and an end", status=422)
    except SwapRefused as exc:
        return await _show(request, viewer, sched, week, message=exc.message, status=exc.status)
    return _back(ident, week)


@router.post(
    "/schedules/{ident}/swaps/{swap_id}/{action}", dependencies=[page_needs(Scope.RESPOND, schedule_team)]
)
async def decide_swap(request: Request, ident: str, swap_id: int, action: str) -> Response:
    post = await read_slot_post(request, ident, max_fields=10)
    deps, sched, viewer, form, week = post.deps, post.sched, post.viewer, post.form, post.week
    state = ACTIONS.get(action)
    if state is None:
        return await _show(request, viewer, sched, week, message="take, approve or cancel", status=404)
    taker = str(form.get("taker", ""))[:128] or None
    who: Principal = request.state.principal
    try:
        await swaps.decide_swap(deps, origin_of(request), who, sched, swap_id, state, taker)
    except SwapRefused as exc:
        return await _show(request, viewer, sched, week, message=exc.message, status=exc.status)
    return _back(ident, week)
