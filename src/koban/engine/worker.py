"""The worker loop: claim due escalation timers and deliveries, act, repeat.

Woken at once when this process commits new due work (alert to first page in milliseconds); other
instances find it within ``poll_seconds``. Sends run concurrently up to ``worker_concurrency``;
each is a database row first, so a task lost with its process is re-claimed when its lease ends.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import sqlalchemy as sa

from koban.db import schema as t
from koban.domain.escalation import Timer
from koban.engine.delivery import run_delivery
from koban.engine.incidents import StaleIncident, handle, load_incident
from koban.engine.queue import claim, next_due
from koban.engine.routing_worker import RoutingWork
from koban.engine.uow import UnitOfWork

if TYPE_CHECKING:
    from koban.engine.kernel import Kernel

log = logging.getLogger("koban.worker")
TIMER_BATCH = 200


class Worker:
    def __init__(self, k: Kernel) -> None:
        self.k = k
        self.slots = asyncio.Semaphore(k.settings.worker_concurrency)
        self.inflight: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self.routing = RoutingWork(k)  # aggregation groups, heartbeat checks

    def stop(self) -> None:
        self._stop.set()
        self.k.wake()

    async def run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                busy = await self.tick()
                failures = 0
            except Exception:
                # A database hiccup must not end the loop; back off so a persistent fault can't spin.
                failures += 1
                log.exception("worker tick failed (%d in a row)", failures)
                busy = False
                await asyncio.sleep(min(30.0, 0.5 * 2**failures))
            if not busy:
                await self._idle()
        if self.inflight:
            await asyncio.wait(self.inflight, timeout=self.k.settings.lease_seconds)

    async def _idle(self) -> None:
        k = self.k
        wait = k.settings.poll_seconds
        async with k.db.read() as conn:
            soonest = [x for x in (await next_due(conn, t.jobs), await next_due(conn, t.deliveries)) if x]
            soonest += await self.routing.soonest(conn)
        if soonest:
            wait = max(0.0, min(wait, min(soonest) - k.clock.now()))
        if wait > 0:
            await k.wait_for_wake(wait)

    async def tick(self) -> bool:
        return bool(await self.timers()) | bool(await self.deliveries()) | bool(await self.routing.tick())

    async def timers(self) -> int:
        k = self.k
        now = k.clock.now()
        async with k.db.begin() as conn:
            jobs = await claim(
                conn,
                t.jobs,
                dialect=k.db.dialect,
                owner=k.owner,
                now=now,
                lease=k.settings.lease_seconds,
                limit=TIMER_BATCH,
            )
        for job in jobs:
            for _ in range(3):
                try:
                    await self._timer(job)
                    break
                except StaleIncident:
                    continue
        return len(jobs)

    async def _timer(self, job: dict) -> None:
        k = self.k
        now = k.clock.now()
        async with k.db.begin() as conn:
            res = await conn.execute(
                sa.delete(t.jobs).where(t.jobs.c.id == job["id"], t.jobs.c.lease_owner == k.owner)
            )
            if res.rowcount != 1:
                return  # lease lost: whoever holds it now acts
            uow = UnitOfWork(conn, k.db.dialect)
            row = await load_incident(uow, job["ref"])
            if row is not None:
                await handle(uow, k.catalog, row, Timer(job["fence"]), now)
            await uow.flush()
        if uow.wake:
            k.wake()

    async def deliveries(self) -> int:
        k = self.k
        free = k.settings.worker_concurrency - len(self.inflight)
        if free <= 0:
            return 0
        async with k.db.begin() as conn:
            rows = await claim(
                conn,
                t.deliveries,
                dialect=k.db.dialect,
                owner=k.owner,
                now=k.clock.now(),
                lease=k.settings.lease_seconds,
                limit=free,
            )
        for row in rows:
            task = asyncio.create_task(self._deliver(row))
            self.inflight.add(task)
            task.add_done_callback(self.inflight.discard)
        return len(rows)

    async def _deliver(self, row: dict) -> None:
        try:
            await run_delivery(self.k, row)
        except Exception:
            # The row keeps its lease and due time: it is retried when the lease runs out.
            log.exception("delivery %s failed unexpectedly", row.get("key"))
        finally:
            self.k.wake()
