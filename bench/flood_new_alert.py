"""A new alert during a flood of repeats: its 2xx -> its incident, p50/p99 (issue 18: p99 < 250 ms).

    python -m bench.flood_new_alert --duration 10 --concurrency 8

``koban serve`` (SQLite, defaults, worker in the same process) takes ``bench.ingest_vs_alertmanager``'s
100-alerts-per-request load (5,000 distinct alerts re-sent over and over, as Prometheus re-sends
every firing alert once per evaluation) with wrk or aiohttp. Meanwhile one client sends an alert
with a new fingerprint every ``--every`` seconds and notes when its 2xx arrives. Afterwards the
incidents' ``created_at`` (stamped by the drain's transaction, which also queues the pages of a
service with a policy) give each new alert's wait. The drain rate over the run is printed too:
alerts that left the inbox per second, against the accept rate.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import orjson

from bench.ingest_vs_alertmanager import PATH, Target, alert_bodies, measure
from bench.koban_server import KobanServer, run_koban
from bench.load import have_wrk
from bench.paging_common import percentile
from koban.sources._fields import label_fingerprint


async def new_alerts(koban: KobanServer, every: float, until: float) -> dict[str, float]:
    """One new alert at a time until ``until``: {fingerprint: when its 2xx arrived}."""
    answered: dict[str, float] = {}
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {koban.key}"}
    async with aiohttp.ClientSession() as session:
        n = 0
        while time.time() < until:
            labels = {"alertname": "FloodNew", "instance": f"new-{n}", "severity": "page"}
            async with session.post(
                koban.url + PATH, data=orjson.dumps([{"labels": labels}]), headers=headers
            ) as r:
                await r.read()
                if r.status == 202:
                    answered[label_fingerprint(labels)] = time.time()
            n += 1
            await asyncio.sleep(every)
    return answered


def opened(koban: KobanServer, keys: Sequence[str]) -> dict[str, float]:
    with sqlite3.connect(koban.database) as conn:
        marks = ",".join("?" * len(keys))
        q = f"SELECT incident_key, created_at FROM incidents WHERE incident_key IN ({marks})"
        return dict(conn.execute(q, list(keys)).fetchall())


def processed(koban: KobanServer) -> int:
    with sqlite3.connect(koban.database) as conn:
        return conn.execute("SELECT coalesce(sum(alert_count), 0) FROM incidents").fetchone()[0]


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


async def run(args: argparse.Namespace) -> None:
    async with run_koban("prometheus", worker=True) as koban:
        target = Target("koban", koban.url, {"Authorization": f"Bearer {koban.key}"})
        bodies = alert_bodies(100)
        started = time.time()
        flood = asyncio.create_task(measure(target, bodies, 100, args))
        await asyncio.sleep(min(1.0, args.duration / 4))  # the flood is running
        answered = await new_alerts(koban, args.every, started + args.duration - 0.5)
        load = await flood
        took = time.time() - started
        done, queued = processed(koban), koban.queued_alerts()
        for _ in range(100):  # the new alerts still queued (if any) get their incidents
            seen = opened(koban, list(answered))
            if len(seen) == len(answered):
                break
            await asyncio.sleep(0.1)
    waits = sorted(max(0.0, seen[k] - at) for k, at in answered.items() if k in seen)
    print(f"flood: {load.summary()}")
    print(
        f"drain during the flood: {done:,} alerts processed in {took:.1f} s = {done / took:,.0f} alerts/s "
        f"({queued:,} still queued at its end)"
    )
    print(
        f"new alert's 2xx -> its incident during the flood ({len(waits)} of {len(answered)} opened): "
        f"p50 {percentile(waits, 0.5) * 1000:.1f} ms, p99 {percentile(waits, 0.99) * 1000:.1f} ms "
        "(target p99 < 250 ms)"
    )
    print(f"# load average at the end: {loadavg()}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of flood (max 60)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--every", type=float, default=0.05, help="seconds between new alerts")
    parser.add_argument("--tool", choices=["wrk", "aiohttp"], default="wrk" if have_wrk() else "aiohttp")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
