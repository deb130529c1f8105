""" "Who is on call now" over HTTP, with 1,000 schedules (target: p95 < 20 ms).

Starts a real ``koban serve`` (SQLite) whose config holds ``--schedules`` schedules of two layers
each (a weekly rotation and a business-hours one, Europe/Paris), adds a read-only API token, then
asks ``GET /api/v1/oncall?schedule=<one of them>`` one request at a time (keep-alive) and prints
the latencies, then a few of the unfiltered ``GET /api/v1/oncall`` (every schedule, for scale),
and the load average (the machine may be shared).

    python -m bench.oncall_http [--schedules 1000] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import time
from pathlib import Path

import httpx

from bench.koban_server import run_koban
from bench.load import percentile
from koban.auth import api_tokens
from koban.auth.permissions import Role, Scope
from koban.auth.store import create_token, create_user
from koban.db.engine import Database

PEOPLE = [f"p{i:03d}" for i in range(50)]


def config(n: int) -> dict:
    rng = random.Random(7)
    schedules = []
    for i in range(n):
        week = {"name": "week", "members": rng.sample(PEOPLE, 3), "start": "2026-01-05", "handoff": "09:00"}
        days = {
            "name": "days",
            "members": rng.sample(PEOPLE, 2),
            "rotation": "daily",
            "start": "2026-01-05",
            "handoff": "09:00",
            "restrictions": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}],
        }
        schedules.append({"id": f"s{i:04d}", "timezone": "Europe/Paris", "layers": [week, days]})
    return {"people": [{"id": p} for p in PEOPLE], "schedules": schedules}


async def add_token(url: str, scope: Scope = Scope.READ) -> str:
    issued = api_tokens.issue(secrets.token_bytes(24))
    db = Database(url)
    try:
        async with db.begin() as conn:
            await create_user(conn, "bench", time.time(), password_hash=None, global_role=Role.ADMIN)
            await create_token(conn, issued, time.time(), person_id="bench", name="bench", scope=scope)
    finally:
        await db.dispose()
    return issued.text


def cpu_ms(pid: int) -> float:
    """CPU time a process has used (user + system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def timed(client: httpx.Client, path: str, n: int, params: list[dict[str, str]]) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        r = client.get(path, params=params[i % len(params)])
        out.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{path}: {r.status_code} {r.text[:300]}")
    return sorted(out)


def line(name: str, ms: list[float]) -> str:
    p50, p95, p99 = (percentile(ms, q) for q in (50, 95, 99))
    return f"{name:<28} n={len(ms):<6} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  p99 {p99:6.2f} ms"


async def measure(args: argparse.Namespace) -> tuple[list[float], list[float], float]:
    """(one schedule's timings, every schedule's timings, server CPU ms per one-schedule request).
    The requests are synchronous on purpose: one at a time, as a person's page or CLI asks."""
    async with run_koban(config=config(args.schedules)) as koban:
        token = await add_token(f"sqlite:///{koban.database}")
        one = [
            {"schedule": f"s{i:04d}"} for i in random.Random(3).sample(range(args.schedules), args.schedules)
        ]
        with httpx.Client(
            base_url=koban.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            timed(client, "/api/v1/oncall", min(200, args.requests), one)  # warm up
            c0 = cpu_ms(koban.pid)
            single = timed(client, "/api/v1/oncall", args.requests, one)
            server_cpu = (cpu_ms(koban.pid) - c0) / args.requests
            every = timed(client, "/api/v1/oncall", max(3, args.requests // 200), [{}])
    return single, every, server_cpu


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.oncall_http", description=__doc__)
    p.add_argument("--schedules", type=int, default=1000)
    p.add_argument("--requests", type=int, default=2000)
    args = p.parse_args(argv)
    single, every, server_cpu = asyncio.run(measure(args))
    print(f"\n## who is on call now over HTTP: {args.schedules} schedules (koban serve, SQLite)")
    print(line("one schedule (?schedule=)", single) + "   target p95 < 20 ms")
    print(f"{'':<28} server CPU {server_cpu:.2f} ms per request")
    print(line("every schedule (no filter)", every))
    print(f"# {os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
