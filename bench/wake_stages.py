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

Rounds alternate between the incident's transaction handing its pages straight to the worker
(``Worker.hand_off``, as ``koban serve`` does) and not (``--no-hand-off`` behaviour: the worker is
woken and claims them in a transaction of its own, as when the prober runs in ``koban probe``), so
the two are compared under the same load of a shared machine.
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
from koban.catalog.deps import NOTHING_HANDED, Handed
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
            "policies": [
                {"id": "page", "steps": [{"notify": [{"person": "alice"}], "escalate_after": "1h"}]}
            ],
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
        await apply_config(conn, config(sim, 2 * args.rounds + 2), k.clock.now())
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
    hand_off = k.deps.hand_off

    async def no_hand_off(conn: Any, keys: Sequence[str]) -> Handed:
        return NOTHING_HANDED

    async def timed_apply(*a: Any, **kw: Any) -> None:
        marks["judged"] = time.time()
        await apply(*a, **kw)
        marks.setdefault("opened", time.time())

    async def timed_write(*a: Any, **kw: Any) -> list[ProbeResult]:
        out = await write(*a, **kw)
        marks["stored"] = time.time()
        return out

    def timed_start(items: list[Any]) -> None:
        if items:
            marks.setdefault("claimed", time.time())
            marks.setdefault("opened", marks["claimed"])  # handed off: started at commit
        start(items)

    monitoring_alerts._apply = timed_apply  # type: ignore[assignment]
    prober.store.write = timed_write  # type: ignore[method-assign]
    k.worker._start = timed_start  # type: ignore[method-assign]
    out: dict[bool, dict[str, list[float]]] = {mode: {s: [] for s in STAGES} for mode in (True, False)}
    try:
        for n in range(2 * args.rounds + 2):  # rounds 0 and 1 warm the process up, as a running koban is
            handing = n % 2 == 0
            k.deps.hand_off = hand_off if handing else no_hand_off  # type: ignore[method-assign]
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
            if n < 2:
                continue
            prev = t0
            for s in STAGES:
                out[handing][s].append((marks[s] - prev) * 1000)
                prev = marks[s]
            await asyncio.sleep(args.pause)
    finally:
        monitoring_alerts._apply = apply  # type: ignore[assignment]
        await k.stop()
        await sim.__aexit__(None, None, None)
        tmp.cleanup()
    return out


def p90(xs: list[float]) -> float:
    ordered = sorted(xs)
    return ordered[int(0.9 * (len(ordered) - 1))]


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=30, help="rounds of each mode (they alternate)")
    p.add_argument("--pause", type=float, default=0.2, help="seconds between rounds")
    p.add_argument("--database-url", default="", help="default: a scratch SQLite file")
    args = p.parse_args(argv)
    out = asyncio.run(run(args))
    db = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite"
    print(f"# {machine()}; {db}, {args.rounds} rounds each; ms from the previous stage, p50 / p90")
    print(f"  {'':8s} {'handed off':>17s} {'worker claims':>17s}")
    for s in STAGES:
        a, b = out[True][s], out[False][s]
        cells = [f"{statistics.median(xs):7.2f} / {p90(xs):7.2f}" for xs in (a, b)]
        print(f"  {s:8s} {cells[0]} {cells[1]}")
    for mode, name in ((True, "handed off"), (False, "worker claims")):
        total = [sum(xs) for xs in zip(*out[mode].values(), strict=True)]
        print(
            f"RESULT {name}: failed result -> Calls.json p50 {statistics.median(total):.2f} ms, "
            f"p90 {p90(total):.2f} ms"
        )


if __name__ == "__main__":
    main()
