"""The web UI's pages at scale: server time of the monitor list (plain, searched, filtered by state),
one monitor's page (24 h and 30 days), "on call now", the incident list and one incident, with N
monitors, M schedules and I incidents (issue 15's targets: list pages < 100 ms p95, one incident and
on call now < 50 ms, one monitor's graph data < 100 ms, a first page load < 150 KB compressed).

    .venv/bin/python -m bench.web_pages [--monitors 100000] [--schedules 1000] [--incidents 50000]
                                        [--requests 200]

Set-up (not timed): the monitors go straight into the config table (bench/probe_seed.py), 1 % of
them announced down and the rest up; 30 day rollups per monitor, and for the one whose page is asked
a month of history as the default retention keeps it (raw 6 h, failures 7 days, minutes 1.5 days,
hours 31 days: bench/probe_seed.py ``seed_tiers``); ``--schedules``
schedules of two layers (bench/oncall_http.py's); ``--incidents`` over a year, one in twenty open
(bench/web_seed_incidents.py). Then each page is asked ``--requests`` times, one
at a time, in process (httpx's ASGI transport, a signed-in browser session): the time measured is
koban's own, from request to the last byte of the page. Prints p50/p95 per page, the page's size and
the load average (the machine may be shared), then the first page load's weight: the incident list's
HTML with the CSS and scripts it names, each gzip-compressed as a reverse proxy would send them.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import math
import os
import re
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.common import machine
from bench.load import percentile
from bench.oncall_http import config as schedules_config
from bench.probe_seed import (
    SERVICE,
    insert_monitors,
    monitor_id,
    monitor_rows,
    seed_days,
    seed_tiers,
    seeded_system,
)
from bench.web_seed_incidents import seed_incidents
from koban.auth.passwords import HASHER
from koban.auth.permissions import Role
from koban.auth.store import create_user
from koban.bootstrap.app import create_app
from koban.catalog.apply import apply_config
from koban.config.model import ConfigFile
from koban.db.schema_probes import monitor_state

PASSWORD = "bench password"
TARGET = "http://127.0.0.1:9/{i}"


async def _seed(k, monitors: int, schedules: int, workdir: Path) -> None:
    now = time.time()
    rows = [
        {
            "monitor_id": monitor_id(i),
            "status": "down" if i % 100 == 7 else "up",
            "reason": "failing" if i % 100 == 7 else "",
            "since": now,
            "version": 1,
            "updated_at": now,
        }
        for i in range(monitors)
    ]
    for i in range(0, len(rows), 5000):
        async with k.db.begin() as conn:
            await conn.execute(sa.insert(monitor_state), rows[i : i + 5000])
    t0 = time.perf_counter()
    rows = seed_days(workdir / "koban.db", monitors, now) + seed_tiers(workdir / "koban.db", 0, now)
    print(f"set-up: {rows:,} history rows (30 days) in {time.perf_counter() - t0:.0f} s", flush=True)
    if schedules:
        from bench.probe_seed import base_config

        data = base_config().model_dump(mode="json")
        data.update(schedules_config(schedules))
        data["people"].append({"id": "bench"})
        async with k.db.begin() as conn:  # applying the whole file drops the monitors: again
            await apply_config(conn, ConfigFile.model_validate(data), now)
        fields = {"enabled": False, "tags": ["bench"]}
        await insert_monitors(k.db, monitor_rows(monitors, TARGET, 60, **fields))
        await k.refresh_catalog(force=True)
    async with k.db.begin() as conn:
        await create_user(conn, "bench", now, password_hash=HASHER.hash(PASSWORD), global_role=Role.ADMIN)


async def _sign_in(c: httpx.AsyncClient) -> None:
    form = await c.get("/login")
    csrf = re.search(r"name='csrf' value='([^']+)'", form.text)
    assert csrf, form.text
    done = await c.post("/login", data={"csrf": csrf.group(1), "person": "bench", "password": PASSWORD})
    assert done.status_code == 303, done.text


async def _time(c: httpx.AsyncClient, path: str, n: int) -> tuple[list[float], int]:
    out, size = [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        r = await c.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{path}: {r.status_code} {r.text[:300]}")
        size = len(r.content)
    return sorted(out), size


async def _first_load(c: httpx.AsyncClient) -> tuple[int, int]:
    """Raw and gzip-compressed bytes of /incidents with every stylesheet and script it links."""
    page = await c.get("/incidents")
    assets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assets += re.findall(r'<script[^>]* src="([^"]+)"', page.text)
    bodies = [page.content] + [(await c.get(a)).content for a in assets]
    return sum(map(len, bodies)), sum(len(gzip.compress(b, 6)) for b in bodies)


async def main(monitors: int, schedules: int, incidents: int, requests: int) -> None:
    with tempfile.TemporaryDirectory(prefix="koban-bench-web-") as tmp:
        workdir = Path(tmp)
        t0 = time.perf_counter()
        async with seeded_system(
            workdir,
            database_url=None,
            monitors=monitors,
            target=TARGET,
            interval=60,
            enabled=False,
            tags=["bench"],
        ) as k:
            await _seed(k, monitors, schedules, workdir)
            await seed_incidents(k.db, incidents, SERVICE)
            print(
                f"set-up: {monitors:,} monitors, {schedules:,} schedules, {incidents:,} incidents"
                f" in {time.perf_counter() - t0:.0f} s"
            )
            app = create_app(k, manage_system=False)
            transport = httpx.ASGITransport(app=app)
            headers = {"accept": "text/html"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://koban.bench", headers=headers
            ) as c:
                await _sign_in(c)
                last = monitor_id(monitors - 1)
                pages = {
                    "monitor list": "/monitors",
                    "monitor list, page 500": f"/monitors?page={min(500, max(0, monitors // 100 - 1))}",
                    "monitor list, search": f"/monitors?q={last}",
                    "monitor list, state down": "/monitors?state=down",
                    "monitor list, state up": "/monitors?state=up",
                    "one monitor, 24 h": f"/monitors/{monitor_id(0)}?range=24h",
                    "one monitor, 30 days": f"/monitors/{monitor_id(0)}?range=30d",
                    "graph data (API), 24 h": f"/api/v1/monitors/{monitor_id(0)}/results?since=24h",
                    "graph data (API), 30 days": f"/api/v1/monitors/{monitor_id(0)}/results?since=30d",
                    "on call now": "/oncall",
                    "incidents": "/incidents",
                    "incidents, resolved": "/incidents?state=resolved",
                    "one incident": f"/incidents/{max(1, incidents // 2)}",
                }
                await c.get("/monitors")  # the index is built once per catalog: not a page's cost
                print(f"{'page':<28} {'p50 ms':>8} {'p95 ms':>8} {'KB':>7}")
                for name, path in pages.items():
                    times, size = await _time(c, path, requests)
                    p50, p95 = percentile(times, 50), percentile(times, 95)
                    print(f"{name:<28} {p50:8.1f} {p95:8.1f} {math.ceil(size / 1024):7d}")
                raw, packed = await _first_load(c)
                print(
                    f"first page load (/incidents, CSS, JS): {raw / 1024:.1f} KB, {packed / 1024:.1f} KB gzip"
                )
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--monitors", type=int, default=100_000)
    ap.add_argument("--schedules", type=int, default=1000)
    ap.add_argument("--incidents", type=int, default=50_000)
    ap.add_argument("--requests", type=int, default=200)
    a = ap.parse_args()
    asyncio.run(main(a.monitors, a.schedules, a.incidents, a.requests))
