"""The worker loop: claim due escalation timers and deliveries, act, repeat.

Woken at once when this process commits new due work (alert to first page in milliseconds); other
instances find it within ``poll_seconds``. Sends run concurrently up to ``worker_concurrency``;
each is a database row first, so a task lost with its process is re-claimed when its lease ends.

Leases are short and renewed: every third of ``lease_seconds`` the worker extends the leases of the
deliveries it has claimed and not yet recorded (``held``), so a send waiting on a slow vendor keeps
its row while a killed or frozen instance's rows are claimed by another within a lease.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from koban.catalog.deps import NOTHING_HANDED, Handed
from koban.channels.base import DeliveryResult
from koban.db import schema as t
from koban.db import schema_routing as r
from koban.db.queue import claim, due_now, next_due, renew
from koban.db.schema_schedules import schedule_notices
from koban.db.uow import UnitOfWork
from koban.domain.escalation import Timer
from koban.paging.delivery import Sending, claim_deliveries, prepare, record_many, send
from koban.paging.incidents import StaleIncident, handle, load_incidents
from koban.paging.rows import ClaimedDelivery
from koban.paging.schedule_notices import ScheduleNotices

if TYPE_CHECKING:
    from koban.paging.deps import PagingDeps, SideWork
log = logging.getLogger("koban.worker")
TIMER_BATCH = 500
TIMER_ROUNDS = 4
# How long a stopping worker lets its sends finish (their leases renewed meanwhile) before leaving
# them to be reconciled by whoever claims them next.
SHUTDOWN_GRACE = 30.0
_QUEUES = (t.jobs, t.deliveries, r.alert_groups, r.heartbeat_state, schedule_notices)


class Worker:
    def __init__(self, deps: PagingDeps, side: SideWork) -> None:
        self.deps = deps
        self.slots = asyncio.Semaphore(deps.settings.worker_concurrency)
        self.inflight: set[asyncio.Task[None]] = set()
        self._done: list[tuple[ClaimedDelivery, DeliveryResult]] = []
        self._recorder: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self.held: set[int] = set()  # deliveries claimed and not yet recorded: their leases are renewed
        self._timer_backlog = False  # the last tick left due timers behind (full batches)
        self.routing = side  # aggregation groups, heartbeat checks (triage/worker.py)
        self.notices = ScheduleNotices(deps)  # swaps, coverage gaps, handoffs (schedule_notices.py)
        self.running = False  # in ``run``: only then may other transactions hand it pages (hand_off)

    def stop(self) -> None:
        self._stop.set()
        self.deps.wake()

    async def run(self) -> None:
        renewer = asyncio.create_task(self._renew_leases())
        self.running = True
        try:
            await self._run()
        finally:
            self.running = False
            renewer.cancel()

    async def _renew_leases(self) -> None:
        """Keep the leases of the deliveries in flight while they are sent (a third of a lease apart,
        so one late renewal does not lose them)."""
        deps = self.deps
        while True:
            await asyncio.sleep(deps.settings.lease_seconds / 3)
            if not self.held:
                continue
            try:
                async with deps.db.begin() as conn:
                    held = await renew(
                        conn,
                        t.deliveries,
                        owner=deps.owner,
                        ids=set(self.held),
                        now=deps.clock.now(),
                        lease=deps.settings.lease_seconds,
                    )
            except Exception:
                log.exception("renewing %d leases failed", len(self.held))
                continue
            lost = self.held - held
            if lost:
                # Taken by another instance (we were frozen past a lease): the fence at record time
                # drops our result; stop renewing them.
                log.warning("lost the lease on %d deliveries in flight", len(lost))
                self.held -= lost

    async def _run(self) -> None:
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
        while self.inflight:  # sends, then the recorder they start
            done, _ = await asyncio.wait(set(self.inflight), timeout=SHUTDOWN_GRACE)
            if not done:
                break

    async def _idle(self) -> None:
        deps = self.deps
        wait = deps.settings.poll_seconds
        if self._recording():
            # Its commit wakes us (and claims the due deliveries itself): no need to look for when.
            await deps.wait_for_wake(wait)
            return
        async with deps.db.read() as conn:
            soonest = [x for x in (await next_due(conn, t.jobs), await next_due(conn, t.deliveries)) if x]
            soonest += await self.routing.soonest(conn)
            soonest += [x for x in [await next_due(conn, schedule_notices)] if x]
        if soonest:
            wait = max(0.0, min(wait, min(soonest) - deps.clock.now()))
        if wait > 0:
            await deps.wait_for_wake(wait)

    async def tick(self) -> bool:
        deps = self.deps
        async with deps.db.read() as conn:
            due = await due_now(conn, _QUEUES, deps.clock.now())
        busy = False
        backlog = False
        if "jobs" in due:
            # Timers first, up to a few full batches: they are what creates the next pages.
            for _ in range(TIMER_ROUNDS):
                n = await self.timers()
                busy |= n > 0
                backlog = n >= TIMER_BATCH
                if not backlog:
                    break
        # While timers are behind, deliveries are claimed here, after each round of timers, and not
        # by the recorder too: a recorder claiming every cycle took half the write lock from them
        # (10,000 steps due at once started ~2x later).
        self._timer_backlog = backlog
        if "deliveries" in due:
            busy |= bool(await self.deliveries())
        routing = await self.routing.tick(groups="alert_groups" in due, heartbeats="heartbeat_state" in due)
        busy |= bool(await self.notices.tick("schedule_notices" in due))
        return busy | bool(routing)

    async def timers(self) -> int:
        deps = self.deps
        async with deps.db.begin() as conn:
            # Read after waiting for the write lock, as for deliveries: else a lease from the past.
            now = deps.clock.now()
            jobs = await claim(
                conn,
                t.jobs,
                dialect=deps.db.dialect,
                owner=deps.owner,
                now=now,
                lease=deps.settings.lease_seconds,
                limit=TIMER_BATCH,
            )
        if not jobs:
            return 0
        try:
            await self._timers(jobs)
        except StaleIncident:
            # Another instance moved one of these incidents first: redo them one by one, fresh.
            for job in jobs:
                for _ in range(3):
                    try:
                        await self._timers([job])
                        break
                    except StaleIncident:
                        continue
        return len(jobs)

    async def _timers(self, jobs: list[dict]) -> None:
        """Fire a batch of timers in one transaction (one commit for hundreds of steps)."""
        deps = self.deps
        now = deps.clock.now()
        async with deps.db.begin() as conn:
            res = await conn.execute(
                sa.delete(t.jobs)
                .where(t.jobs.c.id.in_([j["id"] for j in jobs]), t.jobs.c.lease_owner == deps.owner)
                .returning(t.jobs.c.id)
            )
            held = set(res.scalars())  # a lease we lost belongs to whoever holds it now
            # Rows loaded below, in this write transaction: their UPDATEs can wait for one executemany.
            uow = UnitOfWork(conn, deps.db.dialect, defer_incident_updates=True)
            rows = await load_incidents(uow, {j["ref"] for j in jobs if j["id"] in held})
            for job in jobs:
                row = rows.get(job["ref"])
                if job["id"] in held and row is not None:
                    await handle(uow, deps.catalog, row, Timer(job["fence"]), now)
            await uow.flush()
        if uow.wake:
            deps.wake()

    async def deliveries(self) -> int:
        if self._free() <= 0 or (self._recording() and not self._timer_backlog):
            # A recorder at work claims for the slots its sends freed, in its own transaction;
            # claiming here too would split each cycle into two write transactions again.
            return 0
        async with self.deps.db.begin() as conn:
            items, claimed = await self._claim(conn)
        self._start(items)
        return claimed

    async def hand_off(self, conn: Any, keys: Sequence[str]) -> Handed:
        """Claim the due deliveries of ``keys`` in the caller's write transaction, which has just
        written them, as ``deliveries`` claims (the same lease, ``prepare``'s re-check and
        ``sending`` mark); they start when the caller has committed, so a crash in between leaves
        them ``sending`` under a lease that ends, to be reconciled by whoever claims them next.

        The first page of an incident then leaves without a wake-up, a look at the queue and a claim
        transaction of its own in between (docs/benchmarks.md, time to wake). Nothing while this
        worker is not running or is stopping; no more than its free slots (the rest wait for it).
        """
        wanted = set(keys)
        free = min(self._free(), len(wanted))
        if not self.running or self._stop.is_set() or free <= 0:
            return NOTHING_HANDED
        now = self.deps.clock.now()  # in the transaction, as for ``_claim``
        rows = await claim_deliveries(self.deps, conn, now, free, exclude=self.held, keys=wanted)
        items = await prepare(self.deps, conn, rows, now)
        return Handed(start=functools.partial(self._start, items), complete=len(rows) == len(wanted))

    def _recording(self) -> bool:
        return self._recorder is not None and not self._recorder.done()

    def _free(self) -> int:
        return self.deps.settings.worker_concurrency - len(self.inflight)

    async def _claim(self, conn: Any) -> tuple[list[Sending], int]:
        """Claim and mark ``sending`` as many due deliveries as there are free slots, in ``conn``'s
        transaction; the sends start only after it commits (``_start``)."""
        deps = self.deps
        free = self._free()
        if free <= 0:
            return [], 0
        # The clock read here, in the transaction: a time taken before waiting for the write lock
        # (or before recording a batch) would start the lease in the past, and a short lease could
        # run out before the sends even began.
        now = deps.clock.now()
        rows = await claim_deliveries(deps, conn, now, free, exclude=self.held)
        return await prepare(deps, conn, rows, now), len(rows)

    async def _claim_into(self, out: list[Sending], conn: Any) -> None:
        if not self._timer_backlog:
            out.extend((await self._claim(conn))[0])

    def _start(self, items: list[Sending]) -> None:
        for item in items:
            self.held.add(item.delivery["id"])
            self._track(self._deliver(item))

    def _track(self, coro: Any) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self.inflight.add(task)
        task.add_done_callback(self.inflight.discard)
        return task

    async def _deliver(self, item: Sending) -> None:
        try:
            result = await send(self.deps, item)
        except BaseException:
            # Never recorded: stop renewing, so the lease ends and the row is claimed again.
            self.held.discard(item.delivery["id"])
            raise
        self._done.append((item.delivery, result))
        if self._recorder is None or self._recorder.done():
            self._recorder = self._track(self._record())

    async def _record(self) -> None:
        """Group commit for results: whatever finished while the last write ran goes in the next.

        The same transaction claims the next deliveries for the slots these sends freed: one write
        transaction per cycle instead of a second one (and a wake-up, and a read) to claim."""
        while self._done:
            batch, self._done = self._done, []
            claimed: list[Sending] = []
            try:
                await record_many(self.deps, batch, then=functools.partial(self._claim_into, claimed))
            except Exception:
                # The rows keep their lease; when it ends they are claimed again and reconciled.
                log.exception("recording %d deliveries failed", len(batch))
                continue
            finally:
                self.held -= {delivery["id"] for delivery, _ in batch}
            self._start(claimed)  # committed: marked sending, so a crash now is reconciled, not resent
        self.deps.wake()
