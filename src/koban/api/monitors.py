"""REST: monitors (the YAML shapes, written by applying the whole config with one object replaced, as
``api/objects.py`` does), their status, their history for graphs, and the probe part of /metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from koban.api.access import READ, monitor_team, need, visible_services
from koban.api.deps import deps_of
from koban.api.objects import _save
from koban.auth.permissions import Scope
from koban.catalog.deps import StoreDeps
from koban.config.model_monitors import Monitor
from koban.core.durations import parse_instant
from koban.monitoring import queries as probe_queries
from koban.probes.exposition import exposition

router = APIRouter(prefix="/api/v1/monitors", tags=["monitors"])
# Points a graph data answer holds by default: one per 2 px of a 1,000 px graph. A 24 h range has
# 1,440 minute windows (~660 KB of JSON, most of it values no screen draws): grouped in threes.
MAX_POINTS = 500


def _time(value: str | None, default: float, now: float) -> float:
    """ISO 8601, epoch seconds, or a duration meaning that long ago (``24h``)."""
    if value is None or value == "":
        return default
    try:
        return parse_instant(value, now)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def _monitor(request: Request, ident: str) -> Monitor:
    mon = deps_of(request).catalog.monitors.get(ident)
    if mon is None:
        raise HTTPException(404, f"monitors/{ident} does not exist")
    return mon


def _sorted_ids(request: Request, monitors: Any) -> list[str]:
    """The ids in order, sorted once per catalog (a config change replaces the mapping, never
    mutates it): sorting 100,000 ids on every page request cost more than the page itself."""
    cached = getattr(request.app.state, "monitor_order", None)
    if cached is None or cached[0] is not monitors:
        cached = (monitors, sorted(monitors))
        request.app.state.monitor_order = cached
    ids: list[str] = cached[1]
    return ids


@router.get("", summary="List monitors with their current status", dependencies=[READ])
async def list_monitors(
    request: Request, offset: int = Query(0, ge=0, le=2**63 - 1), limit: int = Query(1000, ge=1, le=10_000)
) -> dict[str, Any]:
    deps = deps_of(request)
    await deps.refresh_catalog()
    monitors = deps.catalog.monitors
    ids = _sorted_ids(request, monitors)
    shown = await visible_services(request)
    if shown is not None:  # a team member sees their teams' monitors
        allowed = set(shown)
        briefs = monitors.briefs  # no model per monitor: only the page's are built
        ids = [i for i in ids if briefs[i].service in allowed]
    page = [monitors[i] for i in ids[offset : offset + limit]]
    async with deps.db.read() as conn:
        states = await probe_queries.states(conn, [m.id for m in page])
    return {
        "total": len(ids),
        "monitors": [{**m.model_dump(mode="json"), "status": states.get(m.id, "unknown")} for m in page],
    }


@router.get(
    "/{ident}",
    summary="One monitor, its state and each location's latest result",
    dependencies=[need(Scope.READ, monitor_team)],
)
async def get_monitor(request: Request, ident: str) -> dict[str, Any]:
    deps = deps_of(request)
    await deps.refresh_catalog()
    mon = _monitor(request, ident)
    async with deps.db.read() as conn:
        return {**mon.model_dump(mode="json"), "state": await probe_queries.status(conn, ident)}


@router.put(
    "/{ident}", summary="Create or replace a monitor", dependencies=[need(Scope.MANAGE, monitor_team)]
)
async def put_monitor(request: Request, ident: str, body: Monitor) -> dict[str, Any]:
    if body.id != ident:
        raise HTTPException(422, f"the body's id {body.id!r} differs from the URL's {ident!r}")
    await _save(request, "monitors", body, ident)
    return body.model_dump(mode="json")


@router.delete(
    "/{ident}",
    summary="Delete a monitor (its history stays until pruned)",
    dependencies=[need(Scope.MANAGE, monitor_team)],
)
async def delete_monitor(request: Request, ident: str) -> dict[str, str]:
    _monitor(request, ident)
    await _save(request, "monitors", None, ident)
    return {"deleted": f"monitors/{ident}"}


@router.get(
    "/{ident}/results",
    summary="History for graphs: rollups (minute, hour, day) or raw results",
    dependencies=[need(Scope.READ, monitor_team)],
)
async def results(
    request: Request,
    ident: str,
    since: str | None = Query(None, description="ISO 8601, epoch seconds, or e.g. 24h (ago). Default 24h."),
    until: str | None = Query(None, description="ISO 8601 or epoch seconds. Default now."),
    step: str | None = Query(None, description="raw, minute, hour or day; default picks by range."),
    location: str | None = Query(None, description="One location; default merges all of them."),
    points: int = Query(
        MAX_POINTS,
        ge=10,
        le=probe_queries.RAW_LIMIT,
        description="At most about this many windows: consecutive ones are grouped, keeping the highest"
        " p95 and max, the count-weighted p50 and average, and every failure (raw results are never"
        " grouped).",
    ),
) -> dict[str, Any]:
    deps = deps_of(request)
    _monitor(request, ident)
    now = deps.clock.now()
    t0, t1 = _time(since, now - 86400, now), _time(until, now, now)
    if step is not None and step not in probe_queries.STEPS:
        raise HTTPException(422, f"step must be one of {', '.join(probe_queries.STEPS)}")
    chosen = step or probe_queries.pick_step(t0, t1)
    async with deps.db.read() as conn:
        found = await probe_queries.history(conn, ident, t0, t1, chosen, location, points)
    return {"monitor": ident, "step": chosen, "points": found}


async def probe_exposition(deps: StoreDeps) -> str:
    """The latest result per monitor and location in blackbox_exporter's metric names."""
    async with deps.db.read() as conn:
        return exposition(await probe_queries.latest_results(conn))
