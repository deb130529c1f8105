"""How long each report takes over a year of incidents and many monitors' history.

    .venv/bin/python -m bench.reports_scale [--incidents 100000] [--monitors 100000] [--days 30]
        [--rollups day|minute] [--schedules 1000] [--database-url postgresql://...]

Seeds straight into the tables with driver-level executemany (``db/bulk.py``): incidents spread
over 365 days, each with a trigger alert, four timeline entries and two pages (a call, a Slack
message). Then ``koban report rebuild-summaries``' own code makes the settled incidents' facts
(timed). Monitor history, ``--days`` of it, is either minute rollups (``--rollups minute``: one row
per monitor and minute, then summed into days by the same rebuild, timed) or, at the issue's size
where 100,000 monitors x 30 days of minutes would be 4.3 billion rows, the daily summaries that
rebuild makes from them (``--rollups day``, the default), seeded directly with the same shape.

``--schedules`` two-layer on-call schedules (``bench/reports_schedules.py``) are configured too:
the on-call report resolves each over the year.

Every report then runs through ``reports.build`` (what the REST routes and ``koban report`` run)
over the year (availability over the last ``--days`` whole UTC days), and its wall time is
printed. The issue's target: each < 2 s on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import machine
from bench.probe_seed import SERVICE, fresh_postgres, monitor_id, seeded_system
from bench.reports_schedules import schedule_rows
from koban.db import schema as t
from koban.db.bulk import BulkInsert
from koban.db.schema_probes import probe_rollups
from koban.db.schema_reports import (
    report_monitor_days,
    report_monitor_running,
    report_service_days,
    report_summarized_days,
)
from koban.db.schema_schedules import schedules as schedules_table
from koban.monitoring.series import SeriesIds
from koban.probes import rollup_codec
from koban.reports import incident_facts, summaries
from koban.reports.build import REPORTS, Query, build
from koban.reports.records import Period

DAY = 86400.0
CHUNK = 20_000
PEOPLE = ("alice", "bob", "carol")
# Driver-level executemany applies no column defaults: every NOT NULL column is named.
INCIDENT_DEFAULTS = {"source": "", "details": {}, "labels": {}, "links": [], "alert_count": 1, "members": {},
                     "esc_step": -1, "esc_loop": 0, "esc_version": 0, "esc_exhausted": False}  # fmt: skip


def incident_rows(n: int, now: float, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {"incidents": [], "alerts": [], "timeline": [], "deliveries": []}
    for i in range(1, n + 1):
        created = now - rng.uniform(2 * 3600, 365 * DAY)
        who = rng.choice(PEOPLE)
        ack, resolved = created + rng.uniform(20, 1800), created + rng.uniform(1800, 7200)
        rows["incidents"].append(
            {"id": i, "service_id": SERVICE, "incident_key": f"k{i}", "status": "resolved",
             "severity": "critical", "summary": "", "created_at": created, "updated_at": resolved,
             "acknowledged_at": ack, "acknowledged_by": who, "resolved_at": resolved, **INCIDENT_DEFAULTS}
        )  # fmt: skip
        rows["alerts"].append(
            {"incident_id": i, "service_id": SERVICE, "dedup_key": f"k{i}", "action": "trigger",
             "severity": "critical", "summary": "", "event": {"occurred_at": created - 30},
             "received_at": created}
        )  # fmt: skip
        for at, kind, actor in ((created, "triggered", None), (ack - 5, "call.answered", None),
                                (ack, "acknowledged", who), (resolved, "resolved", who)):  # fmt: skip
            rows["timeline"].append(
                {"incident_id": i, "at": at, "kind": kind, "actor": actor, "via": None, "data": {}}
            )
        for n_, kind in enumerate(("voice", "slack")):
            rows["deliveries"].append(
                {"key": f"{i}:{n_}", "incident_id": i, "kind": "page", "channel_id": kind,
                 "channel_type": kind, "person_id": who, "address": "", "step": 0, "loop": 0,
                 "state": "sent", "attempts": 1, "meta": {}, "created_at": created,
                 "sent_at": created + 2 + n_}
            )  # fmt: skip
    return rows


async def insert(db: Any, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    bulk = BulkInsert(table)
    for i in range(0, len(rows), CHUNK):
        async with db.begin() as conn:
            await bulk.run(conn, list(rows[i : i + CHUNK]))


async def seed_minutes(db: Any, monitors: int, first: float, days: int) -> None:
    ids = await SeriesIds(db).ids((monitor_id(m), "local") for m in range(monitors))
    metrics = rollup_codec.encode({}, 1)
    for m in range(monitors):
        await insert(db, probe_rollups, [
            {"series_id": ids[(monitor_id(m), "local")], "width": 60, "start": int(first) + j * 60,
             "count": 1, "failures": int(j % 997 == 0), "metrics": metrics}
            for j in range(int(days * 1440))
        ])  # fmt: skip


async def seed_days(db: Any, monitors: int, first: float, days: int, now: float) -> None:
    """What rebuild-summaries makes of ``seed_minutes``' rows, without the 1,440 rows a day each:
    each day's totals per monitor and service, and the monitors' running totals."""
    downs = [sum(1 for j in range(d * 1440, (d + 1) * 1440) if j % 997 == 0) * 60.0 for d in range(days)]
    members = summaries.members_hash(monitor_id(m) for m in range(monitors))
    for d in range(days):
        day = first + d * DAY
        await insert(db, report_monitor_days, [
            {"monitor_id": monitor_id(m), "day": day, "measured_minutes": 1440, "down_seconds": downs[d],
             "first_minute": day, "last_minute": day + DAY - 60}
            for m in range(monitors)
        ])  # fmt: skip
        await insert(db, report_monitor_running, [
            {"monitor_id": monitor_id(m), "day": day, "measured_minutes": 1440 * (d + 1),
             "down_seconds": sum(downs[: d + 1]), "first_seen": first, "last_seen": day + DAY - 60,
             "day_first": day}
            for m in range(monitors)
        ])  # fmt: skip
        async with db.begin() as conn:
            await conn.execute(sa.insert(report_service_days).values(
                service_id=SERVICE, day=day, members=members, measured_minutes=1440, down_seconds=downs[d]
            ))  # fmt: skip
            await conn.execute(sa.insert(report_summarized_days).values(day=day, built_at=now, running=True))


def timed(label: str, started: float) -> None:
    print(f"{label} in {time.perf_counter() - started:.1f} s", flush=True)


async def seed(
    k: Any, incidents: int, monitors: int, days: int, rollups: str, now: float, schedules: int = 0
) -> None:
    started = time.perf_counter()
    await insert(k.db, schedules_table, schedule_rows(schedules, now))
    await k.refresh_catalog(force=True)
    timed(f"configured {schedules} schedules", started)
    started = time.perf_counter()
    rows = incident_rows(incidents, now, random.Random(16))
    for name in ("incidents", "alerts", "timeline", "deliveries"):
        await insert(k.db, getattr(t, name), rows[name])
    timed(f"seeded {incidents} incidents", started)
    started = time.perf_counter()
    made = await incident_facts.rebuild(k.db, now)
    timed(f"RESULT rebuild-summaries made the facts of {made} incidents", started)
    first = summaries.day_of(now) - days * DAY
    started = time.perf_counter()
    if rollups == "minute":
        await seed_minutes(k.db, monitors, first, days)
        timed(f"seeded {monitors} monitors x {days} days of minute rollups", started)
        started = time.perf_counter()
        n = await summaries.rebuild(k.db, now)
        timed(f"RESULT rebuild-summaries summed {n} days", started)
    else:
        await seed_days(k.db, monitors, first, days, now)
        timed(f"seeded {monitors} monitors x {days} daily summaries", started)


async def run(
    database_url: str | None, incidents: int, monitors: int, days: int, rollups: str, schedules: int = 0
) -> dict[str, float]:
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="koban-reports-bench-"))
        if database_url and database_url.startswith("postgres"):
            database_url = stack.enter_context(fresh_postgres(database_url))
        started = time.perf_counter()
        async with seeded_system(
            Path(tmp),
            database_url=database_url,
            monitors=monitors,
            target="http://127.0.0.1:9/",
            interval=60.0,
        ) as k:
            timed(f"configured {monitors} monitors", started)
            now = k.clock.now()
            await seed(k, incidents, monitors, days, rollups, now, schedules)
            out = {}
            today = summaries.day_of(now)
            for name in REPORTS:
                p = (
                    Period(today - days * DAY, today)
                    if name == "availability"
                    else Period(now - 365 * DAY, now)
                )
                query = Query(name, p, "week" if name == "response" else None)
                began = time.perf_counter()
                await build(k.db, k.catalog, query, now, None)
                out[name] = time.perf_counter() - began
                print(f"RESULT report={name} seconds={out[name]:.3f}", flush=True)
            return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--incidents", type=int, default=100_000)
    p.add_argument("--monitors", type=int, default=100_000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--rollups", choices=("day", "minute"), default="day")
    p.add_argument("--schedules", type=int, default=1000)
    p.add_argument("--database-url", default=None)
    a = p.parse_args(argv)
    print(f"reports_scale on {machine()}: {a.database_url or 'sqlite'}")
    times = asyncio.run(run(a.database_url, a.incidents, a.monitors, a.days, a.rollups, a.schedules))
    slow = [n for n, s in times.items() if s >= 2.0]
    print("RESULT all under 2 s" if not slow else f"RESULT over 2 s: {', '.join(slow)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
