"""``/status/{slug}``: a public status page (no login), as its ``status_pages`` config lists it.

The page is the same for everyone who reads it in one language, so each process renders it at most
once per ``CACHE_SECONDS`` per language (one render at a time: a crowd arriving during an outage
costs one set of reads, not one per visitor) and tells browsers and proxies to keep it as long.
What it says is decided by ``status_rules.view``, which sees only public words; this module reads
the facts (monitor states, day rollups with maintenance taken out by ``status_uptime.py``,
incidents with public updates, maintenance windows).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from koban.auth.guard import public
from koban.config.model_status import StatusPage
from koban.monitoring import queries as probe_queries
from koban.paging.public_updates import published_incidents, updates_of
from koban.web import i18n
from koban.web import status_rules as rules
from koban.web.deps import WebDeps, deps_of
from koban.web.guard import PageRefused
from koban.web.render import Viewer, render
from koban.web.status_uptime import WindowDays, recount

router = APIRouter(include_in_schema=False)
N_ = i18n.N_
# The words for each state (English message ids, translated in the catalogues).
WORDS = {
    "overall": {
        "operational": N_("All systems operational"),
        "degraded": N_("Some systems are degraded"),
        "outage": N_("Some systems are down"),
        "maintenance": N_("Maintenance in progress"),
        "unknown": N_("Status not known yet"),
    },
    "state": {
        "operational": N_("Operational"),
        "degraded": N_("Degraded"),
        "outage": N_("Outage"),
        "maintenance": N_("Maintenance"),
        "unknown": N_("No data"),
    },
    "public": {
        "investigating": N_("Investigating"),
        "identified": N_("Identified"),
        "monitoring": N_("Monitoring"),
        "resolved": N_("Resolved"),
    },
}
CACHE_SECONDS = 5.0
MAINTENANCE_AHEAD = 7 * 86400.0  # planned maintenance shown a week ahead
RESOLVED_SHOWN = 86400.0  # an incident resolved less than a day ago still shows, with its last update
PUBLIC = Depends(public("public status pages: only what a status_pages entry lists, in its public words"))
Slug = Annotated[str, Path(max_length=63)]


class StatusCache:
    """Rendered pages by (slug, language), each kept ``CACHE_SECONDS`` on the deps' clock."""

    def __init__(self) -> None:
        self._pages: dict[tuple[str, str], tuple[float, bytes]] = {}
        self._lock = asyncio.Lock()
        self.windows = WindowDays()  # maintenance intervals and recounted days, kept for the process

    async def get(self, key: tuple[str, str], now: float, make: Any) -> bytes:
        found = self._pages.get(key)
        if found is not None and found[0] > now:
            return found[1]
        async with self._lock:
            found = self._pages.get(key)  # made while this request waited
            if found is not None and found[0] > now:
                return found[1]
            body: bytes = await make()
            self._pages = {k: v for k, v in self._pages.items() if v[0] > now}  # forget old pages
            self._pages[key] = (now + CACHE_SECONDS, body)
            return body


def cache_of(state: Any) -> StatusCache:
    cache: StatusCache | None = getattr(state, "status_cache", None)
    if cache is None:
        cache = state.status_cache = StatusCache()
    return cache


def page_at(catalog: Any, slug: str) -> StatusPage | None:
    return next((p for p in catalog.status_pages.values() if p.address == slug), None)


async def facts(deps: WebDeps, page: StatusPage, now: float, memo: WindowDays) -> rules.Facts:
    items = [item for g in page.groups for item in g.items]
    listed = {i.monitor for i in items if i.monitor is not None}
    services = {i.service for i in items if i.service is not None}
    monitor_service = {
        m.id: m.service
        for m in deps.catalog.monitors.briefs.values()
        if m.id in listed or m.service in services
    }
    services |= {monitor_service[m] for m in listed if m in monitor_service}
    ids = sorted(monitor_service)
    # The bars' 90 days back (maintenance is not downtime) and a week ahead (planned maintenance).
    since = rules.first_day(now)
    windows = deps.catalog.routing.windows
    maintenance = memo.service_maintenance(windows, services, since, now + MAINTENANCE_AHEAD)
    async with deps.db.read() as conn:
        states = await probe_queries.states(conn, ids)
        until = now + rules.DAY
        # Monitor items in one read; each service item's worst monitor per day in one read of its own.
        daily = {
            f"monitor:{m}": days
            for m, days in (await probe_queries.daily_uptime(conn, sorted(listed), since, until)).items()
        }
        members: dict[str, tuple[str, list[str]]] = {
            f"monitor:{m}": (monitor_service[m], [m]) for m in sorted(listed) if m in monitor_service
        }
        for service in {i.service for i in items if i.service is not None}:
            mine = [m for m in ids if monitor_service[m] == service]
            members[f"service:{service}"] = (service, mine)
            daily[f"service:{service}"] = (
                await probe_queries.daily_worst(conn, mine, since, until) if mine else {}
            )
        await recount(conn, memo, members, daily, maintenance, now)
        rows = await published_incidents(conn, sorted(services), now - RESOLVED_SHOWN)
        updates = await updates_of(conn, [r.id for r in rows])
    incidents = [
        rules.Published(
            r.service_id,
            r.incident_key,
            r.resolved_at is None,
            tuple(rules.Update(u.status, u.message, u.created_at) for u in updates.get(r.id, [])),
        )
        for r in rows
    ]
    return rules.Facts(monitor_service, states, daily, incidents, maintenance)


@router.get("/status/{slug}", dependencies=[PUBLIC])
async def status_page(request: Request, slug: Slug, lang: str = "") -> Response:
    deps = deps_of(request)
    # No refresh_catalog here: it reads the config tables' fingerprint on every call, and this page
    # is open to anyone; the catalog store follows changes on its own every 2 s.
    page = page_at(deps.catalog, slug)
    if page is None:
        raise PageRefused(404, f"no status page {slug!r}")
    # Never the signed-in person's view: the page is one for everyone, and so is its cache.
    lang = lang if lang in i18n.LANGUAGES else i18n.pick(None, request.headers.get("accept-language", ""))
    viewer = Viewer(None, "", lang, i18n.zone(page.timezone))
    now = deps.clock.now()
    cache = cache_of(request.app.state)

    async def make() -> bytes:
        shown = rules.view(page, await facts(deps, page, now, cache.windows), now, lang)
        others = [x for x in i18n.LANGUAGES if x != lang]
        context: dict[str, Any] = {"view": shown, "slug": page.address, "others": others, "words": WORDS}
        utc = i18n.zone("UTC")  # the bars are UTC days, as the rollups are
        # Each day's words once, not once per item: Babel's date formatting is most of a render.
        days = [i18n.format_short(shown.days[0] + i * rules.DAY, lang, utc, "day") for i in range(rules.DAYS)]

        def pct(uptime: float | None) -> str:
            return "–" if uptime is None else f"{uptime * 100:.2f} %"

        return bytes(render(viewer, "status.html", 200, days=days, pct=pct, **context).body)

    body = await cache.get((page.address, lang), now, make)
    headers = {"cache-control": f"public, max-age={int(CACHE_SECONDS)}", "vary": "accept-language"}
    return Response(body, 200, media_type="text/html; charset=utf-8", headers=headers)
