"""``/incidents``: the open ones first, filtered by team, service, severity, state and time (opened
in the last hour, day, week or month), with bulk acknowledge and resolve (a plain form: it works
without JavaScript).

Bulk actions are replay-safe as they are: they name incident ids, and an id never reopens (a new
alert after resolution opens a new incident), so a form posted twice finds the work done.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from koban.auth.audit import Door, Origin
from koban.auth.permissions import Need, Principal, Scope, decide
from koban.auth.visibility import service_team, visible_services
from koban.channels.actions import IncidentAction
from koban.db import schema as t
from koban.domain.alerts import Severity
from koban.domain.escalation import Status
from koban.paging.actions import NotFound
from koban.web.deps import deps_of
from koban.web.guard import page_needs
from koban.web.i18n import N_
from koban.web.render import render, viewer_of

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100
MAX_BULK = 500
STATES = ("open", "triggered", "acknowledged", "resolved", "all")
BULK = {"acknowledge": IncidentAction.ACKNOWLEDGE, "resolve": IncidentAction.RESOLVE}
# The time filter: opened within the last ... (seconds, words); the choice's key is what the URL carries.
OPENED_WITHIN = {
    "1h": (3600.0, N_("in the last hour")),
    "24h": (86400.0, N_("in the last 24 hours")),
    "7d": (7 * 86400.0, N_("in the last 7 days")),
    "30d": (30 * 86400.0, N_("in the last 30 days")),
}


def origin_of(request: Request) -> Origin:
    who: Principal = request.state.principal
    ip = request.client.host if request.client else ""
    return Origin(who.person_id, Door.UI, ip, request.headers.get("user-agent", "")[:512])


def _query(
    shown: list[str] | None,
    service: str,
    severity: str,
    state: str,
    page: int,
    opened_after: float | None = None,
) -> sa.Select[Any]:
    """``shown``: the services whose incidents may be listed (None: all), the person's visibility
    and the team filter together."""
    c = t.incidents.c
    resolved_last = sa.case((c.status == Status.RESOLVED, 1), else_=0)
    q = sa.select(t.incidents).order_by(resolved_last, c.id.desc())
    if state == "open":
        q = q.where(c.status != Status.RESOLVED)
    elif state in ("triggered", "acknowledged", "resolved"):
        q = q.where(c.status == state)
    if service:
        q = q.where(c.service_id == service)
    if severity:
        q = q.where(c.severity == severity)
    if shown is not None:  # a team member sees their teams' incidents; a team filter narrows it
        q = q.where(c.service_id.in_(shown))
    if opened_after is not None:
        q = q.where(c.created_at >= opened_after)
    return q.limit(PAGE_SIZE + 1).offset(page * PAGE_SIZE)


@router.get("/incidents", dependencies=[page_needs(Scope.READ)])
async def incidents_page(
    request: Request,
    team: str = "",
    service: str = "",
    severity: str = "",
    state: str = "open",
    opened: str = "",
    page: int = 0,
    fragment: str = "",
    done: int = -1,
    failed: int = 0,
) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    viewer = await viewer_of(request)
    visible = visible_services(request.state.principal, deps.catalog)
    services = sorted(deps.catalog.services) if visible is None else sorted(visible)
    teams = sorted({s.team for s in deps.catalog.services.values() if s.id in services and s.team})
    team = team if team in teams else ""
    shown = visible if not team else [s for s in services if deps.catalog.services[s].team == team]
    state = state if state in STATES else "open"
    opened = opened if opened in OPENED_WITHIN else ""
    after = deps.clock.now() - OPENED_WITHIN[opened][0] if opened else None
    page = max(0, min(page, 10_000))
    async with deps.db.read() as conn:
        rows = (await conn.execute(_query(shown, service, severity, state, page, after))).all()
    filters = {"team": team, "service": service, "severity": severity, "state": state, "opened": opened}
    context: dict[str, Any] = {
        "rows": rows[:PAGE_SIZE],
        "filters": filters,
        "more": len(rows) > PAGE_SIZE,
        "page": page,
        "next_url": "/incidents?" + urlencode({**filters, "page": page + 1}),
        "prev_url": "/incidents?" + urlencode({**filters, "page": page - 1}),
        "back_url": "/incidents?" + urlencode({**filters, "page": page}),
    }
    if fragment == "rows":  # the live script swaps the table's rows in place
        return render(viewer, "incident_rows.html", **context)
    return render(
        viewer,
        "incidents.html",
        services=services,
        teams=teams,
        within={k: words for k, (_, words) in OPENED_WITHIN.items()},
        severities=[s.value for s in Severity],
        states=STATES,
        done=done,
        failed=failed,
        **context,
    )


@router.post("/incidents/bulk", dependencies=[page_needs(Scope.READ)])
async def bulk_action(request: Request) -> Response:
    """Acknowledge or resolve the ticked incidents; each one is checked against the person's role
    in its team, and those refused or already done are counted, not hidden."""
    deps = deps_of(request)
    await deps.refresh_catalog()
    form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=MAX_BULK + 10)
    action = BULK.get(form.get("action", [""])[0])
    ids = sorted({int(i) for i in form.get("id", []) if i.isdigit() and 0 < int(i) < 2**63})
    back = form.get("back", ["/incidents"])[0]
    back = back if back.startswith("/incidents") and "\n" not in back else "/incidents"
    done = failed = 0
    if action is not None and ids:
        who: Principal = request.state.principal
        async with deps.db.read() as conn:
            found = (
                await conn.execute(
                    sa.select(t.incidents.c.id, t.incidents.c.service_id).where(t.incidents.c.id.in_(ids))
                )
            ).all()
        for ident, service in found:
            if not decide(who, Need(Scope.RESPOND, service_team(deps.catalog, service))).allowed:
                failed += 1
                continue
            try:
                res = await deps.actions.act(
                    ident, action, actor=who.person_id, via="ui", origin=origin_of(request)
                )
            except NotFound:
                res = None
            done, failed = (done + 1, failed) if res is not None and res.ok else (done, failed + 1)
        failed += len(ids) - len(found)
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}{urlencode({'done': done, 'failed': failed})}", status_code=303)
