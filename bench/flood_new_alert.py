"""A new alert during a flood of repeats: its 2xx -> its incident, p50/p99 (issue 18: p99 < 250 ms).

    python -m bench.flood_new_alert --duration 10 --concurrency 8
    python -m bench.flood_new_alert --database-url postgresql://postgres@127.0.0.1/postgres

``koban serve`` (SQLite, defaults, worker in the same process; or PostgreSQL: ``--database-url``
names a server where a scratch database is created and dropped) takes ``bench.ingest_vs_alertmanager``'s
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
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import orjson
import psycopg

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


class Store:
    """The bench's reads of koban's database: the SQLite file, or the scratch PostgreSQL database."""

    def __init__(self, koban: KobanServer, url: str | None) -> None:
        self.koban, self.url = koban, url

    def rows(self, sql: str, params: Sequence[str] = ()) -> list[tuple]:
        if self.url is None:
            with sqlite3.connect(self.koban.database) as conn:
                return conn.execute(sql, list(params)).fetchall()
        with psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            return conn.execute(sql.replace("?", "%s"), list(params)).fetchall()

    def opened(self, keys: Sequence[str]) -> dict[str, float]:
        marks = ",".join("?" * len(keys))
        q = f"SELECT incident_key, created_at FROM incidents WHERE incident_key IN ({marks})"
        return dict(self.rows(q, keys))  # type: ignore[arg-type]

    def processed(self) -> int:
        return int(self.rows("SELECT coalesce(sum(alert_count), 0) FROM incidents")[0][0])

    def queued(self) -> int:
        return int(self.rows("SELECT coalesce(sum(alerts), 0) FROM ingest_inbox")[0][0])


@contextmanager
def scratch_database(server: str | None) -> Iterator[str | None]:
    """A fresh database on the PostgreSQL ``server`` (dropped afterwards), or None for SQLite."""
    if not server:
        yield None
        return
    name = f"koban_flood_{secrets.token_hex(4)}"
    admin = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


async def run(args: argparse.Namespace) -> None:
    with scratch_database(args.database_url) as url:
        await run_on(args, url)


async def run_on(args: argparse.Namespace, url: str | None) -> None:
    env = {"KOBAN_DATABASE_URL": url} if url else None
    async with run_koban("prometheus", worker=True, extra_env=env) as koban:
        store = Store(koban, url)
        target = Target("koban", koban.url, {"Authorization": f"Bearer {koban.key}"})
        bodies = alert_bodies(100)
        started = time.time()
        flood = asyncio.create_task(measure(target, bodies, 100, args))
        await asyncio.sleep(min(1.0, args.duration / 4))  # the flood is running
        answered = await new_alerts(koban, args.every, started + args.duration - 0.5)
        load = await flood
        took = time.time() - started
        done, queued = store.processed(), store.queued()
        for _ in range(100):  # the new alerts still queued (if any) get their incidents
            seen = store.opened(list(answered))
            if len(seen) == len(answered):
                break
            await asyncio.sleep(0.1)
    waits = sorted(max(0.0, seen[k] - at) for k, at in answered.items() if k in seen)
    print(f"flood ({'PostgreSQL' if url else 'SQLite'}): {load.summary()}")
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
    parser.add_argument(
        "--database-url", help="a PostgreSQL server (its database is only used to create one)"
    )
    parser.add_argument("--tool", choices=["wrk", "aiohttp"], default="wrk" if have_wrk() else "aiohttp")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
