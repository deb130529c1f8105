"""Bench (3): alert accepted -> first notification leaves, p50/p99 (target p99 < 250 ms).

One alert at a time (a quiet system's latency, not a queue under a burst): the clock starts when
ingest answers (the alert is committed) and stops at the first page's ``sending_at``, the moment
the worker hands it to the channel.
"""

from __future__ import annotations

import asyncio
import sys
import time

import sqlalchemy as sa

from bench.paging_common import (
    INTEGRATION,
    alert,
    bench_config,
    bench_system,
    parser,
    print_latency,
    rows_once,
)
from koban.db import schema as t


async def run(database_url: str, alerts: int) -> list[float]:
    async with bench_system(database_url, bench_config()) as k:
        worker = asyncio.create_task(k.worker.run())
        accepted: dict[int, float] = {}
        for n in range(alerts):
            [res] = await k.batcher.submit(INTEGRATION, [alert(n)])
            accepted[res.incident_id] = time.time()  # type: ignore[index]
            await asyncio.sleep(0.05)
        d = t.deliveries.c
        sent = sa.select(d.incident_id, d.sending_at).where(d.sent_at.is_not(None))
        rows = await rows_once(k, sent, alerts)
        k.worker.stop()
        await worker
    return [max(0.0, sending - accepted[i]) for i, sending in rows]


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__ or "")
    p.add_argument("--alerts", type=int, default=300)
    args = p.parse_args(argv)
    lat = asyncio.run(run(args.database_url, args.alerts))
    print_latency("alert accepted -> first notification leaves", args.alerts, lat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
