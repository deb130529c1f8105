"""The inbox drain alone on a flood's backlog: alerts/s and the longest batch (issue 18: >= 128,000/s).

    python -m bench.drain_repeats --rounds 40                 # SQLite scratch file
    python -m bench.drain_repeats --database-url postgresql://...

The backlog is ``bench.ingest_vs_alertmanager``'s 100-alerts-per-request mix: its 50 bodies
(5,000 distinct alerts) committed to the inbox ``--rounds`` times, as Prometheus re-sends every
firing alert once per evaluation. A first round is drained untimed (it opens the 5,000 incidents,
as a running flood has); then ``InboxDrain.drain_once`` runs until the inbox is empty, in process.
The longest batch is what a fresh row (a new alert, claimed first) may wait for.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from bench.ingest_vs_alertmanager import alert_bodies
from bench.paging_common import bench_config, bench_system, parser
from koban.config.model import ConfigFile
from koban.ingest.inbox import Delivery


async def run(database_url: str, rounds: int) -> None:
    cfg = bench_config().model_dump()
    cfg["services"][0]["integrations"].append({"id": "prom", "type": "prometheus", "key_hashes": ["1" * 64]})
    bodies = alert_bodies(100)
    async with bench_system(database_url, ConfigFile.model_validate(cfg)) as k:

        async def enqueue(n: int) -> None:
            for _ in range(n):
                for body in bodies:
                    await k.inbox.submit(Delivery("prom", "prometheus", time.time(), 100, body), None)

        await enqueue(1)
        await k.drain.drain_all()  # the 5,000 incidents are open, as during a flood
        await enqueue(rounds)
        alerts = rounds * len(bodies) * 100
        cpu, wall = time.process_time(), time.perf_counter()
        longest = 0.0
        while True:
            started = time.perf_counter()
            if not await k.drain.drain_once():
                break
            longest = max(longest, time.perf_counter() - started)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"drain: {alerts:,} queued alerts ({rounds} x 50 bodies of 100) in {wall:.2f} s = "
        f"{alerts / wall:,.0f} alerts/s (CPU {cpu:.2f} s); longest batch {longest * 1000:.0f} ms"
    )
    print(f"# load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__ or "")
    p.add_argument("--rounds", type=int, default=40)
    args = p.parse_args(argv)
    asyncio.run(run(args.database_url, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
