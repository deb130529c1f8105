"""Alert accepted through the ingest inbox -> first notification leaves, p50/p99 (issue 2's target
p99 < 250 ms holds for queued sources too).

``bench/paging_latency.py`` starts the clock after the synchronous path has already made the
incident; here a Prometheus alert is only committed to the inbox when the clock starts, so the
figure includes the drain waking, parsing, running the alert rules and committing, then the worker
claiming the page. One alert at a time, as a quiet system sees them.
"""

from __future__ import annotations

import asyncio
import sys
import time

import orjson
import sqlalchemy as sa

from bench.paging_common import bench_config, bench_system, parser, print_latency, rows_once
from koban.config.model import ConfigFile
from koban.db import schema as t
from koban.ingest.inbox import Delivery
from koban.sources._fields import label_fingerprint


async def run(database_url: str, alerts: int) -> list[float]:
    cfg = bench_config().model_dump()
    cfg["services"][0]["integrations"].append({"id": "prom", "type": "prometheus", "key_hashes": ["1" * 64]})
    async with bench_system(database_url, ConfigFile.model_validate(cfg)) as k:
        tasks = [asyncio.create_task(k.worker.run()), asyncio.create_task(k.drain.run())]
        accepted: dict[str, float] = {}
        for n in range(alerts):
            labels = {"alertname": "InboxLatency", "instance": f"host-{n}"}
            body = orjson.dumps([{"labels": labels}])
            await k.inbox.submit(Delivery("prom", "prometheus", time.time(), 1, body), None)
            accepted[label_fingerprint(labels)] = time.time()
            await asyncio.sleep(0.05)
        i, d = t.incidents.c, t.deliveries.c
        first = (
            sa.select(i.incident_key, sa.func.min(d.sending_at))
            .join(t.deliveries, d.incident_id == i.id)
            .where(d.sending_at.is_not(None))
            .group_by(i.incident_key)
        )
        rows = await rows_once(k, first, alerts)
        k.worker.stop()
        k.drain.stop()
        await asyncio.gather(*tasks)
    return [max(0.0, sending - accepted[key]) for key, sending in rows]


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__ or "")
    p.add_argument("--alerts", type=int, default=300)
    args = p.parse_args(argv)
    lat = asyncio.run(run(args.database_url, args.alerts))
    print_latency("alert committed to the inbox -> first notification leaves", args.alerts, lat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
