"""Bench (2): 10,000 incidents in escalation -> p99 lateness of their second step vs its due time.

Every incident's step 0 waits ``--timeout`` seconds; the worker must start step 1 on time for all of
them at once. Lateness = when step 1 started - (step 0 start + timeout). Target: p99 < 1 s.
"""

from __future__ import annotations

import asyncio
import sys

import sqlalchemy as sa

from bench.paging_common import INTEGRATION, alert, bench_config, bench_system, parser, percentile
from koban.db import schema as t


async def run(database_url: str, incidents: int, step_timeout: float) -> list[float]:
    async with bench_system(database_url, bench_config(steps=2, escalate_after=step_timeout)) as k:
        worker = asyncio.create_task(k.worker.run())
        await asyncio.gather(
            *(
                k.batcher.submit(INTEGRATION, [alert(n) for n in range(i, min(i + 100, incidents))])
                for i in range(0, incidents, 100)
            )
        )
        tl, inc = t.timeline.c, t.incidents.c
        while True:
            async with k.db.read() as conn:
                rows = (
                    await conn.execute(
                        sa.select(tl.at, inc.esc_started_at)
                        .join(t.incidents, inc.id == tl.incident_id)
                        .where(tl.kind == "step.started", inc.esc_step == 1)
                    )
                ).all()
            # Both steps log step.started; the later entry of each incident is step 1.
            late = [at - (start + step_timeout) for at, start in rows if at > start]
            if len(late) >= incidents:
                break
            await asyncio.sleep(0.25)
        k.worker.stop()
        await worker
    return late


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__ or "")
    p.add_argument("--incidents", type=int, default=10_000)
    p.add_argument("--timeout", type=float, default=60.0, help="step 0 timeout (longer than the ingest)")
    args = p.parse_args(argv)
    late = asyncio.run(run(args.database_url, args.incidents, args.timeout))
    print(
        f"{args.incidents:,} incidents escalating: step lateness p50 {percentile(late, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(late, 0.99) * 1000:.0f} ms, max {max(late) * 1000:.0f} ms (target p99 < 1 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
