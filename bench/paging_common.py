"""Shared set-up of the paging-core benches: one in-process system on a scratch database.

The sink is the console channel with its logger silenced, so the figures are koban's own cost
(ingest, queue, escalation, delivery bookkeeping), not a network peer's.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from koban.bootstrap.system import System
from koban.catalog.apply import apply_config
from koban.config.model import ConfigFile
from koban.core.settings import Settings
from koban.domain.alerts import AlertAction, AlertEvent, Severity

INTEGRATION = "bench-generic"


def bench_config(steps: int = 1, escalate_after: float = 300.0) -> ConfigFile:
    return ConfigFile.model_validate(
        {
            "people": [{"id": "alice", "notify": ["sink"]}],
            "channels": [{"id": "sink", "type": "console"}],
            "policies": [
                {
                    "id": "p",
                    "steps": [
                        {"notify": [{"person": "alice"}], "escalate_after": escalate_after}
                        for _ in range(steps)
                    ],
                }
            ],
            "services": [
                {
                    "id": "svc",
                    "policy": "p",
                    "integrations": [{"id": INTEGRATION, "type": "generic", "key_hashes": ["0" * 64]}],
                }
            ],
        }
    )


def alert(n: int) -> AlertEvent:
    return AlertEvent(
        dedup_key=f"bench-{n}",
        action=AlertAction.TRIGGER,
        severity=Severity.CRITICAL,
        summary=f"bench alert {n}",
        source="bench",
    )


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--database-url", default="", help="default: a scratch SQLite file")
    return p


@asynccontextmanager
async def bench_system(database_url: str, cfg: ConfigFile, **settings: Any) -> AsyncIterator[System]:
    logging.getLogger("koban.notify").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="koban-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        s = Settings(database_url=url, data_dir=Path(tmp), secret_key="bench", **settings)
        k = System(s)
        await k.start(worker=False)
        async with k.db.begin() as conn:
            await apply_config(conn, cfg, k.clock.now())
        await k.refresh_catalog(force=True)
        try:
            yield k
        finally:
            await k.stop()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def stamp() -> float:
    return time.time()


async def rows_once(k: System, query: Any, count: int, every: float = 0.1) -> list[Any]:
    """Poll ``query`` until it returns ``count`` rows (the latency benches' "every page has left")."""
    while True:
        async with k.db.read() as conn:
            rows = (await conn.execute(query)).all()
        if len(rows) >= count:
            return rows
        await asyncio.sleep(every)


def print_latency(what: str, alerts: int, lat: list[float]) -> None:
    print(
        f"{what} ({alerts} alerts, one at a time): "
        f"p50 {percentile(lat, 0.5) * 1000:.1f} ms, p99 {percentile(lat, 0.99) * 1000:.1f} ms "
        "(target p99 < 250 ms)"
    )
