"""``/monitors``: every monitor a person may see, 100 a page, searched and filtered by state, tag,
location and service on the server (a plain GET form: it works without JavaScript)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from koban.auth.permissions import Scope
from koban.auth.visibility import visible_services
from koban.monitoring import queries as probe_queries
from koban.web.deps import deps_of
from koban.web.guard import page_needs
from koban.web.monitor_index import STATES, Filters, index_of, page_of
from koban.web.render import render, viewer_of

router = APIRouter(include_in_schema=False)
MAX_PAGE = 10_000
MAX_FIELD = 200


@router.get("/monitors", dependencies=[page_needs(Scope.READ)])
async def monitors_page(
    request: Request,
    q: str = "",
    tag: str = "",
    location: str = "",
    state: str = "",
    service: str = "",
    page: int = 0,
) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    viewer = await viewer_of(request)
    catalog = deps.catalog
    index = index_of(request.app.state, catalog.monitors)
    visible = visible_services(request.state.principal, catalog)
    shown = set(visible) if visible is not None else None
    f = Filters(
        q[:MAX_FIELD],
        tag[:MAX_FIELD],
        location[:MAX_FIELD],
        state if state in STATES else "",
        service[:MAX_FIELD],
    )
    page = max(0, min(page, MAX_PAGE))
    async with deps.db.read() as conn:

        async def states_of(ids: list[str]) -> dict[str, str]:
            return await probe_queries.states(conn, ids)

        async def in_state(status: str) -> set[str]:
            return await probe_queries.ids_in_state(conn, status)

        found = await page_of(index, f, shown, page, states_of, in_state)
        latest = await probe_queries.latest_of(conn, [e.id for e in found.entries])
    query = f.as_query()
    rows = [
        {
            "m": catalog.monitors[e.id],
            "state": found.states.get(e.id, "unknown"),
            "latest": latest.get(e.id, []),
        }
        for e in found.entries
    ]
    services = sorted(catalog.services) if shown is None else sorted(shown)
    context: dict[str, Any] = {
        "rows": rows,
        "filters": f,
        "total": found.total,
        "more": found.more,
        "page": page,
        "next_url": "/monitors?" + urlencode({**query, "page": page + 1}),
        "prev_url": "/monitors?" + urlencode({**query, "page": page - 1}),
        "states": STATES,
        "tags": index.tags,
        "locations": index.locations,
        "services": services,
    }
    return render(viewer, "monitors.html", **context)
