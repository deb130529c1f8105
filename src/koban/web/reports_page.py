"""``/reports``: the reports of ``reports/`` (response, time to wake, interruptions, on-call load,
availability) as tables a person can read, print (the stylesheet's print rules drop the navigation
and the form) or take as CSV from the REST API. Each person sees only their teams' services, as in
``GET /api/v1/reports/...``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from koban.auth.permissions import Scope
from koban.auth.visibility import visible_services
from koban.core.durations import parse_instant
from koban.reports.build import REPORTS, Query, build
from koban.reports.records import Period
from koban.reports.response import DIMENSIONS
from koban.reports.tables import rows
from koban.web.deps import deps_of
from koban.web.guard import page_needs
from koban.web.render import render, viewer_of

router = APIRouter(include_in_schema=False)
DEFAULT_SINCE = "30d"
MAX_ROWS = 1000  # a page; the CSV has them all


@router.get("/reports", dependencies=[page_needs(Scope.READ)])
async def reports_page(
    request: Request, name: str = "response", since: str = DEFAULT_SINCE, until: str = "", by: str = ""
) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    viewer = await viewer_of(request)
    name = name if name in REPORTS else "response"
    now = deps.clock.now()
    status, message = 200, ""
    table: list[dict[str, Any]] = []
    try:
        start = parse_instant(since[:64] or DEFAULT_SINCE, now, "7d")
        end = parse_instant(until[:64], now, "7d") if until else now
        grouped = by or None if name == "response" else None
        query = Query(name, Period(start, end, viewer.tz.key), grouped, limit=MAX_ROWS + 1)  # "more" says so
        query.check()
    except ValueError as exc:
        status, message = 422, str(exc)
    else:
        shown = visible_services(request.state.principal, deps.catalog)
        table = rows(name, await build(deps.db, deps.catalog, query, now, shown))
    columns: list[str] = []
    for r in table[:MAX_ROWS]:
        columns += [c for c in r if c not in columns]
    api_query = {"since": since, "until": until, "tz": viewer.tz.key, "format": "csv"}
    if name == "response" and by:
        api_query["by"] = by
    return render(
        viewer,
        "reports.html",
        status,
        name=name,
        names=REPORTS,
        dimensions=DIMENSIONS,
        since=since,
        until=until,
        by=by,
        message=message,
        columns=columns,
        table=table[:MAX_ROWS],
        more=len(table) > MAX_ROWS,
        csv_url=f"/api/v1/reports/{name}?" + urlencode({k: v for k, v in api_query.items() if v}),
    )
