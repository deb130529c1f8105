"""``/monitors/{ident}``: one monitor: its state, its response-time graphs (p50/p95/max bands with
failures marked, stacked phases, locations side by side) over 1 h to 1 year with zoom, its uptime
per day and its recent results, all from the stored rollups (``monitoring/queries.py``).

Zoom is links (``?since=..&until=..``): the range buttons, a slice of the graph, "zoom out". They
work without JavaScript and on a phone, and each view has its own URL to paste into an incident.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from koban.auth.permissions import Scope
from koban.auth.visibility import monitor_team
from koban.monitoring import queries as probe_queries
from koban.monitoring.graph_points import Window, group_width
from koban.probes.rollup import RESOLUTIONS
from koban.web import graph_svg as g
from koban.web.deps import deps_of
from koban.web.guard import PageRefused, page_needs
from koban.web.i18n import format_ms, format_short, gettext_for
from koban.web.render import render, viewer_of

router = APIRouter(include_in_schema=False)
RANGES = {
    "1h": 3600,
    "6h": 6 * 3600,
    "24h": 86400,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
    "90d": 90 * 86400,
    "1y": 365 * 86400,
}
MIN_SPAN = 600.0  # zooming further shows single minutes: the recent results say more
MAX_SPAN = 400 * 86400.0
UPTIME_DAYS = 30
RECENT = 50


def window(now: float, range_: str, since: str, until: str) -> tuple[float, float, str]:
    """The shown range: a named one, else ``since``/``until`` (epoch seconds) within sane bounds."""
    try:
        t0, t1 = float(since), float(until)
    except ValueError:
        span = RANGES.get(range_, RANGES["24h"])
        return now - span, now, range_ if range_ in RANGES else "24h"
    if not (t0 == t0 and t1 == t1):  # NaN
        return now - 86400, now, "24h"
    t1 = min(max(t1, 0.0), now)
    t0 = min(max(t0, t1 - MAX_SPAN), t1 - MIN_SPAN)
    return t0, t1, ""


@router.get("/monitors/{ident}", dependencies=[page_needs(Scope.READ, monitor_team)])
async def monitor_page(
    request: Request,
    ident: str,
    range: str = "24h",
    since: str = "",
    until: str = "",  # noqa: A002
) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    viewer = await viewer_of(request)
    mon = deps.catalog.monitors.get(ident)
    if mon is None:
        raise PageRefused(404, f"monitor {ident} does not exist")
    now = deps.clock.now()
    t0, t1, chosen = window(now, range, since[:32], until[:32])
    step = probe_queries.pick_step(t0, t1)
    width = float(RESOLUTIONS[step])
    day0 = now - UPTIME_DAYS * 86400
    async with deps.db.read() as conn:
        state = await probe_queries.status(conn, ident)
        # Grouped as they are read: no more points than the plot has room for (g.MAX_POINTS).
        grouped = group_width(width, t0, t1, g.MAX_POINTS)
        drawn = grouped or width
        merged = await probe_queries.windows(conn, ident, t0, t1, step, None, grouped)
        per_location = (
            {
                loc: await probe_queries.windows(conn, ident, t0, t1, step, loc, grouped)
                for loc in mon.locations
            }
            if len(mon.locations) > 1
            else {}
        )
        days = await probe_queries.history(conn, ident, day0, now, "day")
        recent = await probe_queries.recent(conn, ident, RECENT)
    _ = gettext_for(viewer.lang)

    def failed(p: Window) -> str:
        return _("%(n)s of %(count)s failed", n=p.failures, count=p.count)

    def at(ts: float) -> str:
        return format_short(ts, viewer.lang, viewer.tz, step)

    span = t1 - t0

    def link(a: float, b: float) -> str:
        return f"/monitors/{ident}?" + urlencode({"since": int(a), "until": int(b)})

    zoom_out = link(max(t0 - span / 2, t1 - MAX_SPAN), min(t1 + span / 2, now))
    total_count = sum(p.count for p in merged)
    total_failures = sum(p.failures for p in merged)
    context: dict[str, Any] = {
        "m": mon,
        "state": state,
        "range": chosen,
        "ranges": list(RANGES),
        "span_text": f"{at(t0)} – {at(t1)}",
        "bands": g.bands(merged, t0, t1, drawn, format_ms, failed),
        "phases": g.phases(merged, t0, t1, drawn, format_ms),
        "compare": g.compare(per_location, t0, t1, drawn, format_ms) if per_location else None,
        "x_ticks": g.x_ticks(t0, t1, at),
        "slices": [(x, w, link(a, b), f"{at(a)} – {at(b)}") for x, w, a, b in g.zoom(t0, t1)],
        "zoom_out": zoom_out if span < MAX_SPAN else "",
        "svg": {
            "width": g.WIDTH,
            "height": g.HEIGHT,
            "left": g.LEFT,
            "right": g.RIGHT,
            "top": g.TOP,
            "bottom": g.HEIGHT - g.BOTTOM,
        },
        "counts": (total_count, total_failures),
        "days": days,
        "recent": recent,
    }
    return render(viewer, "monitor.html", **context)
