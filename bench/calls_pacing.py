"""Phone calls: step due → call request received by the Twilio simulator, and calls placed per second.

Runs koban in-process (SQLite in a temporary directory, API on a real port, the real worker) against
the simulator over real HTTP. Prints:

- latency from the escalation step becoming due (``step.started`` on the timeline) to the simulator
  receiving the ``Calls.json`` create request, p50/p99 over sequential incidents (pacing set high so it
  does not dominate);
- calls placed per second when many pages are due at once, at a paced rate (the channel's
  ``calls_per_second``; beyond a 5 s wait the channel answers TRANSIENT and the engine retries later).

``python -m bench.calls_pacing [--incidents 40] [--burst 20] [--cps 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import uvicorn

from koban.bootstrap.app import create_app
from koban.bootstrap.system import System
from koban.catalog.apply import apply_config
from koban.config.model import ConfigFile
from koban.core.settings import Settings
from koban.db import schema as t
from koban.domain.alerts import AlertAction, AlertEvent, Severity
from koban.fakes.twilio import TwilioSimulator
from koban.testing.ports import free_port

TOKEN = "bench-twilio-token"


def config(sim: TwilioSimulator, cps: float) -> ConfigFile:
    phone = {
        "id": "phone",
        "type": "voice",
        "account_sid": sim.account_sid,
        "auth_token": TOKEN,
        "from_number": sim.number,
        "api_base_url": sim.url,
        "calls_per_second": cps,
    }
    return ConfigFile.model_validate(
        {
            "people": [{"id": "alice", "contacts": {"phone": "+15550200001"}, "notify": ["phone"]}],
            "channels": [phone],
            "policies": [{"id": "p", "steps": [{"notify": [{"person": "alice"}], "escalate_after": "1h"}]}],
            "services": [{"id": "web", "policy": "p", "integrations": [{"id": "gen", "type": "generic"}]}],
        }
    )


def alert(key: str) -> AlertEvent:
    return AlertEvent(dedup_key=key, action=AlertAction.TRIGGER, severity=Severity.CRITICAL, summary="down")


async def run(cps: float, body: Any) -> Any:
    """Start koban + simulator, call ``body(k, sim, received)``; ``received`` is create-request times."""
    received: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with TwilioSimulator(TOKEN, personas={"default": "busy"}, speed=50) as sim:
            start_call = sim.start_call

            def stamped(call: Any) -> None:
                received.append(time.time())
                start_call(call)

            sim.start_call = stamped  # type: ignore[method-assign]
            port = free_port()
            s = Settings(
                database_url=f"sqlite:///{Path(tmp) / 'koban.db'}",
                data_dir=Path(tmp),
                secret_key="bench-secret",
                public_url=f"http://127.0.0.1:{port}",
                port=port,
                sqlite_synchronous="NORMAL",
            )
            k = System(s)
            await k.start(worker=True)
            async with k.db.begin() as conn:
                await apply_config(conn, config(sim, cps), k.clock.now())
            await k.refresh_catalog(force=True)
            server = uvicorn.Server(
                uvicorn.Config(
                    create_app(k, manage_system=False), host="127.0.0.1", port=port, log_level="error"
                )
            )
            task = asyncio.create_task(server.serve())
            for _ in range(1500):  # up to 30 s on a loaded machine
                if server.started:
                    break
                await asyncio.sleep(0.02)
            try:
                return await body(k, sim, received)
            finally:
                server.should_exit = True
                await task
                await k.stop()


async def step_starts(k: System) -> list[float]:
    async with k.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.timeline.c.at).where(t.timeline.c.kind == "step.started").order_by(t.timeline.c.id)
        )
        return [r[0] for r in rows]


async def latency(k: System, sim: TwilioSimulator, received: list[float], n: int) -> list[float]:
    for i in range(n):
        await k.batcher.submit("gen", [alert(f"lat-{i}")])
        for _ in range(2000):
            if len(received) > i:
                break
            await asyncio.sleep(0.002)
        await asyncio.sleep(0.05)
    return [(r - s) * 1000 for r, s in zip(received, await step_starts(k), strict=False)]


async def burst(k: System, sim: TwilioSimulator, received: list[float], n: int) -> float:
    await k.batcher.submit("gen", [alert(f"burst-{i}") for i in range(n)])
    for _ in range(6000):
        if len(received) >= n:
            break
        await asyncio.sleep(0.01)
    if len(received) < 2:
        return 0.0
    return (len(received) - 1) / (received[-1] - received[0])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.calls_pacing", description=__doc__)
    p.add_argument("--incidents", type=int, default=40)
    p.add_argument("--burst", type=int, default=20)
    p.add_argument("--cps", type=float, default=5.0)
    args = p.parse_args(argv)
    lat = asyncio.run(run(1000.0, lambda k, sim, rec: latency(k, sim, rec, args.incidents)))
    print(f"step due -> call request at the simulator, {len(lat)} sequential incidents (SQLite):")
    print(f"  p50 {statistics.median(lat):.1f} ms   p99 {pct(lat, 0.99):.1f} ms   max {max(lat):.1f} ms")
    for cps in (args.cps, 1.0):
        n = args.burst if cps > 1 else min(args.burst, 8)
        rate = asyncio.run(run(cps, lambda k, sim, rec, n=n: burst(k, sim, rec, n)))
        print(f"calls placed per second, {n} pages due at once, calls_per_second={cps:g}: {rate:.2f}/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
