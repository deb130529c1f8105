"""Reads for graphs, status views and /metrics. Graphs over long ranges read rollups, never raw rows.

``windows`` walks the rollups' primary key (series, width, start) of the monitor's series (one per
location), so one monitor's 24 h graph reads 1,440 minute rows (or 24 hour rows) whatever the size of
the table; ``monitoring/graph_points.py`` turns them into points (and fewer points, for the API).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db.schema_probes import monitor_state, probe_latest, probe_results, probe_rollups, probe_series
from koban.monitoring import raw
from koban.monitoring.graph_points import Window, group_width
from koban.monitoring.graph_points import windows as graph_windows
from koban.monitoring.series import series_of
from koban.probes.result import PHASES, CertInfo, Phases, ProbeResult
from koban.probes.rollup import RESOLUTIONS

STEPS = ("raw", "minute", "hour", "day")
RAW_LIMIT = 10_000


def pick_step(since: float, until: float) -> str:
    """The finest resolution that keeps a graph under ~1,500 points (and that is kept that long by
    default: hour rollups for 31 days)."""
    span = until - since
    if span <= 25 * 3600:
        return "minute"
    if span <= 31 * 86400:
        return "hour"
    return "day"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


async def history(
    conn: AsyncConnection,
    monitor_id: str,
    since: float,
    until: float,
    step: str,
    location: str | None = None,
    most: int | None = None,
) -> list[dict[str, Any]]:
    """The REST API's points: raw results, or rollup windows (at most about ``most`` of them:
    ``graph_points.group_width``)."""
    if step == "raw":
        series = await series_of(conn, monitor_id, location)
        return await _raw(conn, series, since, until) if series else []
    grouped = group_width(RESOLUTIONS[step], since, until, most) if most is not None else 0.0
    return [w.as_json() for w in await windows(conn, monitor_id, since, until, step, location, grouped)]


async def windows(
    conn: AsyncConnection,
    monitor_id: str,
    since: float,
    until: float,
    step: str,
    location: str | None = None,
    grouped: float = 0.0,
) -> list[Window]:
    """The rollup windows (minute, hour or day) of one monitor over ``[since, until)``, in time order:
    all its locations merged, or one; grouped ``grouped`` seconds at a time when given."""
    series = await series_of(conn, monitor_id, location)
    if not series:
        return []
    c = probe_rollups.c
    width = RESOLUTIONS[step]
    q = sa.select(c.series_id, c.width, c.start, c["count"], c.failures, c.metrics).where(
        c.series_id.in_(list(series)) if len(series) > 1 else c.series_id == next(iter(series)),
        c.width == width,
        c.start > since - width,  # the window that contains ``since``
        c.start < until,
    )
    rows = list((await conn.execute(q.order_by(c.start))).all())
    if len(series) > 1:
        rows.sort(key=lambda x: (x.start, series[x.series_id]))
    return graph_windows(rows, series, location, grouped)


async def _raw(
    conn: AsyncConnection, series: Mapping[int, str], since: float, until: float
) -> list[dict[str, Any]]:
    c = probe_results.c
    q = sa.select(probe_results).where(
        c.series_id.in_(list(series)),
        c.started_ms >= round(since * 1000),
        c.started_ms < round(until * 1000),
    )
    rows = await conn.execute(q.order_by(c.started_ms, c.series_id, c.attempt).limit(RAW_LIMIT))
    return [
        {
            "started_at": _iso(r.started_ms / 1000),
            "location": series[r.series_id],
            "success": bool(r.flags & raw.SUCCESS),
            "final": bool(r.flags & raw.FINAL),
            "attempt": r.attempt,
            "duration": r.duration_us / 1e6,
            "status_code": r.status_code,
            "error": r.error or "",
            "phases": {p: getattr(r, f"{p}_us") / 1e6 for p in PHASES},
            "cert_expiry": _iso(r.cert_expiry) if r.cert_expiry is not None else None,
        }
        for r in rows
    ]


async def status(conn: AsyncConnection, monitor_id: str) -> dict[str, Any]:
    """The announced state and the latest result of each location."""
    state = (
        await conn.execute(sa.select(monitor_state).where(monitor_state.c.monitor_id == monitor_id))
    ).first()
    rows = await conn.execute(
        sa.select(probe_latest)
        .where(probe_latest.c.monitor_id == monitor_id)
        .order_by(probe_latest.c.location)
    )
    return {
        "status": state.status if state else "unknown",
        "reason": state.reason or None if state else None,
        "since": _iso(state.since) if state and state.since else None,
        "incident_id": state.incident_id if state else None,
        "locations": {
            r.location: {
                "at": _iso(r.started_at),
                "success": r.success,
                "duration": r.duration,
                "status_code": r.status_code,
                "error": r.error,
                "phases": r.phases,
                "failing_since": _iso(r.fail_since) if r.fail_since else None,
            }
            for r in rows
        },
    }


async def states(conn: AsyncConnection, monitor_ids: list[str]) -> dict[str, str]:
    if not monitor_ids:
        return {}
    q = sa.select(monitor_state.c.monitor_id, monitor_state.c.status).where(
        monitor_state.c.monitor_id.in_(monitor_ids)
    )
    return {r.monitor_id: r.status for r in await conn.execute(q)}


async def latest_results(conn: AsyncConnection) -> list[ProbeResult]:
    """``probe_latest`` as ProbeResults, for ``koban.probes.exposition``."""
    out = []
    for r in await conn.execute(sa.select(probe_latest)):
        cert = None
        if r.cert_expiry is not None:
            expiry = datetime.fromtimestamp(r.cert_expiry, UTC)
            cert = CertInfo(leaf_expiry=expiry, earliest_expiry=expiry)
        out.append(
            ProbeResult(
                kind=r.kind,
                target="",
                success=r.success,
                started_at=datetime.fromtimestamp(r.started_at, UTC),
                duration=r.duration,
                error=r.error,
                phases=Phases(**{p: float(r.phases.get(p, 0.0)) for p in PHASES}),
                status_code=r.status_code,
                headers={"content-length": str(r.content_length)} if r.content_length >= 0 else {},
                redirects=r.redirects,
                cert=cert,
                monitor_id=r.monitor_id,
                location=r.location,
            )
        )
    return out


class Recent(NamedTuple):
    started_at: float  # epoch s
    location: str
    success: bool
    duration: float  # s
    status_code: int
    error: str


async def recent(conn: AsyncConnection, monitor_id: str, limit: int = 50) -> list[Recent]:
    """The newest final results of a monitor, newest first (its page's "recent results"): the
    primary key (series, started_ms, attempt) of its series, read backwards."""
    series = await series_of(conn, monitor_id)
    if not series:
        return []
    c = probe_results.c
    q = (
        sa.select(c.series_id, c.started_ms, c.flags, c.duration_us, c.status_code, c.error)
        .where(c.series_id.in_(list(series)), c.flags.op("&")(raw.FINAL) != 0)
        .order_by(c.started_ms.desc())
        .limit(limit)
    )
    return [
        Recent(
            r.started_ms / 1000,
            series[r.series_id],
            bool(r.flags & raw.SUCCESS),
            r.duration_us / 1e6,
            r.status_code,
            r.error or "",
        )
        for r in await conn.execute(q)
    ]


async def latest_of(conn: AsyncConnection, monitor_ids: list[str]) -> dict[str, list[Any]]:
    """The latest result of each location of these monitors (a page of the monitor list)."""
    if not monitor_ids:
        return {}
    c = probe_latest.c
    q = sa.select(c.monitor_id, c.location, c.started_at, c.success, c.duration).where(
        c.monitor_id.in_(monitor_ids)
    )
    out: dict[str, list[Any]] = {}
    for r in await conn.execute(q.order_by(c.monitor_id, c.location)):
        out.setdefault(r.monitor_id, []).append(r)
    return out


async def ids_in_state(conn: AsyncConnection, status: str) -> set[str]:
    """Every monitor announced in ``status`` (for "down", the few a list filters for)."""
    q = sa.select(monitor_state.c.monitor_id).where(monitor_state.c.status == status)
    return set((await conn.execute(q)).scalars())


def _monitor_days(monitor_ids: Sequence[str], since: float, until: float) -> sa.Subquery:
    """(monitor_id, start, up) per monitor and day rollup: its results that succeeded, summed over
    its locations in the database."""
    s, r = probe_series.c, probe_rollups.c
    total = sa.func.sum(r["count"])
    return (
        sa.select(s.monitor_id, r.start, ((total - sa.func.sum(r.failures)) * 1.0 / total).label("up"))
        .join_from(probe_rollups, probe_series, r.series_id == s.id)
        .where(s.monitor_id.in_(list(monitor_ids)), r.width == RESOLUTIONS["day"])
        .where(r.start >= since, r.start < until)
        .group_by(s.monitor_id, r.start)
        .having(total > 0)
        .subquery()
    )


async def daily_uptime(
    conn: AsyncConnection, monitor_ids: Sequence[str], since: float, until: float
) -> dict[str, dict[float, float]]:
    """Per monitor, per day rollup starting in ``[since, until)``: the share of its results that
    succeeded (all locations). The day rollups the monitor page's uptime per day reads too."""
    out: dict[str, dict[float, float]] = {}
    ids = list(monitor_ids)
    for i in range(0, len(ids), 500):
        days = _monitor_days(ids[i : i + 500], since, until)
        for mid, start, up in await conn.execute(sa.select(days)):
            out.setdefault(mid, {})[float(start)] = float(up)
    return out


async def daily_worst(
    conn: AsyncConnection, monitor_ids: Sequence[str], since: float, until: float
) -> dict[float, float]:
    """Per day rollup starting in ``[since, until)``: the uptime of the worst of these monitors that
    day (a status page's bar for a service). Summed in the database, so a service of hundreds of
    monitors comes back as 90 rows."""
    out: dict[float, float] = {}
    ids = list(monitor_ids)
    for i in range(0, len(ids), 500):
        days = _monitor_days(ids[i : i + 500], since, until)
        q = sa.select(days.c.start, sa.func.min(days.c.up)).group_by(days.c.start)
        for start, up in await conn.execute(q):
            day = float(start)
            out[day] = min(float(up), out.get(day, 1.0))
    return out
