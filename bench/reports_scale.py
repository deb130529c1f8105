"""How long each report takes over a year of incidents and many monitors' minute history.

    .venv/bin/python -m bench.reports_scale [--incidents 100000] [--monitors 100] [--days 30]
        [--database-url postgresql://...]

Seeds straight into the tables in bulk (as ``bench/probe_seed.py`` does for monitors): incidents
spread over 365 days, each with a trigger alert, four timeline entries and two pages (a call, a
Slack message), and one minute rollup per minute per monitor for the last ``--days``. Then every
report runs through ``reports.build`` (what the REST routes and ``koban report`` run) over the
year (the availability report over ``--days``), and its wall time is printed. The issue's target:
each < 2 s on SQLite and on PostgreSQL. Minute rollups grow as monitors x minutes: 100,000 monitors
x 30 days is 4.3 billion rows, past what this bench seeds; see docs/reports.md.
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
from koban.db import schema as t
from koban.db.schema_probes import probe_rollups
from koban.monitoring.series import SeriesIds
from koban.probes import rollup_codec
from koban.reports.build import REPORTS, Query, build
from koban.reports.records import Period

DAY = 86400.0
CHUNK = 5000
PEOPLE = ("alice", "bob", "carol")


def incident_rows(n: int, now: float, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {"incidents": [], "alerts": [], "timeline": [], "deliveries": []}
    for i in range(1, n + 1):
        created = now - rng.uniform(0, 365 * DAY)
        who = rng.choice(PEOPLE)
        ack, resolved = created + rng.uniform(20, 1800), created + rng.uniform(1800, 7200)
        rows["incidents"].append(
            {"id": i, "service_id": SERVICE, "incident_key": f"k{i}", "status": "resolved",
             "severity": "critical", "summary": "", "created_at": created, "updated_at": resolved,
             "acknowledged_at": ack, "acknowledged_by": who, "resolved_at": resolved}
        )  # fmt: skip
        rows["alerts"].append(
            {"incident_id": i, "service_id": SERVICE, "dedup_key": f"k{i}", "action": "trigger",
             "severity": "critical", "summary": "", "event": {"occurred_at": created - 30},
             "received_at": created}
        )  # fmt: skip
        for at, kind, actor in ((created, "triggered", None), (ack - 5, "call.answered", None),
                                (ack, "acknowledged", who), (resolved, "resolved", who)):  # fmt: skip
            rows["timeline"].append({"incident_id": i, "at": at, "kind": kind, "actor": actor, "data": {}})
        for n_, kind in enumerate(("voice", "slack")):
            rows["deliveries"].append(
                {"key": f"{i}:{n_}", "incident_id": i, "kind": "page", "channel_id": kind,
                 "channel_type": kind, "person_id": who, "state": "sent", "created_at": created,
                 "sent_at": created + 2 + n_}
            )  # fmt: skip
    return rows


async def insert(db: Any, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        async with db.begin() as conn:
            await conn.execute(sa.insert(table), list(rows[i : i + CHUNK]))


async def seed(k: Any, incidents: int, monitors: int, days: int, now: float) -> None:
    rows = incident_rows(incidents, now, random.Random(16))
    for name in ("incidents", "alerts", "timeline", "deliveries"):
        await insert(k.db, getattr(t, name), rows[name])
    first = int((now - days * DAY) // 60 * 60)
    ids = await SeriesIds(k.db).ids((monitor_id(m), "local") for m in range(monitors))
    metrics = rollup_codec.encode({}, 1)
    for m in range(monitors):
        minutes = [
            {"series_id": ids[(monitor_id(m), "local")], "width": 60, "start": first + j * 60,
             "count": 1, "failures": int(j % 997 == 0), "metrics": metrics}
            for j in range(int(days * 1440))
        ]  # fmt: skip
        await insert(k.db, probe_rollups, minutes)


async def run(database_url: str | None, incidents: int, monitors: int, days: int) -> dict[str, float]:
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="koban-reports-bench-"))
        if database_url and database_url.startswith("postgres"):
            database_url = stack.enter_context(fresh_postgres(database_url))
        async with seeded_system(
            Path(tmp),
            database_url=database_url,
            monitors=monitors,
            target="http://127.0.0.1:9/",
            interval=60.0,
        ) as k:
            now = k.clock.now()
            started = time.perf_counter()
            await seed(k, incidents, monitors, days, now)
            print(f"seeded {incidents} incidents, {monitors} monitors x {days} days in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
            out = {}
            for name in REPORTS:
                span = days * DAY if name == "availability" else 365 * DAY
                query = Query(name, Period(now - span, now, "UTC"), "week" if name == "response" else None)
                began = time.perf_counter()
                await build(k.db, k.catalog, query, now, None)
                out[name] = time.perf_counter() - began
                print(f"RESULT report={name} seconds={out[name]:.3f}")
            return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--incidents", type=int, default=100_000)
    p.add_argument("--monitors", type=int, default=100)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--database-url", default=None)
    a = p.parse_args(argv)
    print(f"reports_scale on {machine()}: {a.database_url or 'sqlite'}")
    times = asyncio.run(run(a.database_url, a.incidents, a.monitors, a.days))
    slow = [n for n, s in times.items() if s >= 2.0]
    print("RESULT all under 2 s" if not slow else f"RESULT over 2 s: {', '.join(slow)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
