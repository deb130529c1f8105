"""Time to wake, stage by stage: a failed final probe result in hand -> the call at ``Calls.json``.

    .venv/bin/python -m bench.wake_stages [--rounds 30] [--database-url postgresql://...]

``bench.wake_vs_prometheus`` times the whole chain from outside (kill -> call), where half a second is
the wait for the next probe and the rest is noise on a loaded machine. This one drives the production
code in one process from the moment the prober holds a failed final result, and stamps each stage:

    stored     ``ProbeStore.write`` committed the result
    judged     the monitor's state read and evaluated (``_apply`` begins)
    opened     the incident's transaction committed (``_apply`` returns)
    claimed    the worker starts the send (``Worker._start``: the page is marked ``sending``)
    called     the Twilio simulator received ``Calls.json`` (real HTTP, the real voice channel)

Each round uses its own monitor (seen up first, then down), so every round opens a new incident;
the round waits for its call before the next. Nothing probes for real: the runner is not started,
its store callback is called with the result, as ``Runner`` does for an urgent one.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa

from bench.common import machine
from koban.bootstrap.system import System
from koban.catalog.apply import apply_config
from koban.config.model import ConfigFile
from koban.core.settings import Settings
from koban.fakes.twilio import TwilioSimulator
from koban.monitoring import alerts as monitoring_alerts
from koban.monitoring.prober import Prober
from koban.probes.result import ProbeResult

PHONE = "+15550100001"
STAGES = ("stored", "judged", "opened", "claimed", "called")


def config(sim: TwilioSimulator, monitors: int) -> ConfigFile:
    return ConfigFile.model_validate(
        {
            "people": [{"id": "alice", "contacts": {"phone": PHONE}, "notify": ["phone"]}],
            "channels": [
                {
                    "id": "phone",
                    "type": "voice",
                    "account_sid": sim.account_sid,
                    "auth_token": sim.auth_token,
                    "from_number": sim.number,
                    "api_base_url": sim.url,
                    "ring_timeout": 20,
                    # Rounds come faster than Twilio's default 1 call/s: pacing must not be timed.
                    "calls_per_second": 100,
                }
            ],
            "policies": [{"id": "page", "steps": [{"notify": [{"person": "alice"}], "escalate_after": "1h"}]}],
            "services": [{"id": "web", "policy": "page"}],
            "monitors": [
                {"id": f"m{i}", "service": "web", "target": "http://127.0.0.1:9/x", "interval": 60}
                for i in range(monitors)
            ],
        }
    )


def result(monitor: str, success: bool) -> ProbeResult:
    return ProbeResult(
        kind="http",
        target="http://127.0.0.1:9/x",
        success=success,
        started_at=datetime.now(UTC),
        duration=0.001,
        error="" if success else "connection refused",
        status_code=200 if success else 0,
        monitor_id=monitor,
        location="local",
    )


async def scratch_postgres(url: str) -> str:
    admin = await asyncpg.connect(url)
    try:
        await admin.execute("DROP DATABASE IF EXISTS koban_wake_stages WITH (FORCE)")
        await admin.execute("CREATE DATABASE koban_wake_stages")
    finally:
        await admin.close()
    return str(sa.make_url(url).set(database="koban_wake_stages"))


async def run(args: argparse.Namespace) -> dict[str, list[float]]:
    marks: dict[str, float] = {}
    sim = TwilioSimulator("bench-auth-token")
    await sim.__aenter__()
    tmp = tempfile.TemporaryDirectory(prefix="koban-wake-stages-")
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    if url.startswith("postgresql"):
        url = await scratch_postgres(url)
    k = System(Settings(database_url=url, data_dir=Path(tmp.name), secret_key="bench"))
    await k.start(worker=False)
    async with k.db.begin() as conn:
        await apply_config(conn, config(sim, args.rounds + 1), k.clock.now())
    await k.refresh_catalog(force=True)
    await k.stop()
    # Started again with the config in place, so the worker's channels are built at start, as in serve.
    k = System(Settings(database_url=url, data_dir=Path(tmp.name), secret_key="bench"))
    await k.start(worker=True)
    prober = Prober(k.deps, "local")
    await prober.store.load()
    await prober.sync()

    apply = monitoring_alerts._apply
    write = prober.store.write
    start = k.worker._start

    async def timed_apply(*a: Any, **kw: Any) -> None:
        marks["judged"] = time.time()
        await apply(*a, **kw)
        marks["opened"] = time.time()

    async def timed_write(*a: Any, **kw: Any) -> list[ProbeResult]:
        out = await write(*a, **kw)
        marks["stored"] = time.time()
        return out

    def timed_start(items: list[Any]) -> None:
        if items:
            marks.setdefault("claimed", time.time())
        start(items)

    monitoring_alerts._apply = timed_apply  # type: ignore[assignment]
    prober.store.write = timed_write  # type: ignore[method-assign]
    k.worker._start = timed_start  # type: ignore[method-assign]
    out: dict[str, list[float]] = {s: [] for s in STAGES}
    try:
        for n in range(args.rounds + 1):  # round 0 warms the process up, as a running koban is
            monitor = f"m{n}"
            await prober._store([result(monitor, True)])
            marks.clear()
            calls = len(sim.calls)
            t0 = time.time()
            await prober._store([result(monitor, False)])
            deadline = time.monotonic() + 30
            while len(sim.calls) <= calls:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"round {n}: no call")
                await asyncio.sleep(0.001)
            marks["called"] = min(c.received_at for c in list(sim.calls.values())[calls:])
            if n == 0:
                continue
            prev = t0
            for s in STAGES:
                out[s].append((marks[s] - prev) * 1000)
                prev = marks[s]
            await asyncio.sleep(args.pause)
    finally:
        monitoring_alerts._apply = apply  # type: ignore[assignment]
        await k.stop()
        await sim.__aexit__(None, None, None)
        tmp.cleanup()
    return out


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--pause", type=float, default=0.2, help="seconds between rounds")
    p.add_argument("--database-url", default="", help="default: a scratch SQLite file")
    args = p.parse_args(argv)
    out = asyncio.run(run(args))
    db = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite"
    print(f"# {machine()}; {db}, {args.rounds} rounds; ms from the previous stage, p50 / p90")
    total = [sum(xs) for xs in zip(*out.values(), strict=True)]
    for s, xs in out.items():
        ordered = sorted(xs)
        print(f"  {s:8s} {statistics.median(xs):7.2f} / {ordered[int(0.9 * (len(ordered) - 1))]:7.2f}")
    ordered = sorted(total)
    print(f"RESULT failed result -> Calls.json: p50 {statistics.median(total):.2f} ms, p90 "
          f"{ordered[int(0.9 * (len(ordered) - 1))]:.2f} ms")


if __name__ == "__main__":
    main()
