"""Group commit for inbound alerts: many requests, one transaction, every caller answered after commit.

Each request hands its parsed events to ``submit`` and waits. One task drains everything waiting into
a single transaction (process alerts, write incidents, timeline, pages), commits, then answers all of
them: "on disk before the 2xx" at the cost of one fsync per batch instead of one per alert.

Rate limits are decided in the same transaction (``ingest/limits.py``): a request over its limit
raises ``RateLimited`` from ``submit`` and nothing of it is stored.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from koban.db.uow import UnitOfWork
from koban.domain.alerts import AlertEvent
from koban.ingest.limits import Ask, LimitGate, RateLimited
from koban.paging.incidents import StaleIncident
from koban.routing.ratelimit import Limits
from koban.triage.alerts import process_alerts
from koban.triage.outcome import AlertOutcome

if TYPE_CHECKING:
    from koban.catalog.deps import StoreDeps
log = logging.getLogger("koban.ingest")
MAX_BATCH_EVENTS = 2000

Result = list[AlertOutcome] | RateLimited
Item = tuple[str, list[AlertEvent], Limits | None, "asyncio.Future[Result]"]


class IngestBatcher:
    def __init__(self, deps: StoreDeps) -> None:
        self.deps = deps
        self.pending: list[Item] = []
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.gate = LimitGate()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="koban-ingest")

    async def close(self) -> None:
        self._closing = True
        self.ready.set()
        if self._task:
            await self._task

    async def submit(
        self, integration_id: str, events: list[AlertEvent], limits: Limits | None = None
    ) -> list[AlertOutcome]:
        """Commit ``events``; raises ``RateLimited`` (nothing stored) when over the integration's limits."""
        if limits is not None:
            refused = self.gate.precheck(integration_id, limits, self.deps.clock.now())
            if refused is not None:
                raise refused
        fut: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        item: Item = (integration_id, events, limits, fut)
        if self._task is None or self._task.done():
            # No batcher running (CLI, tests): commit directly.
            result = (await self._commit([item]))[0]
        else:
            self.pending.append(item)
            self.ready.set()
            result = await fut
        if isinstance(result, RateLimited):
            raise result
        return result

    async def _run(self) -> None:
        while True:
            await self.ready.wait()
            self.ready.clear()
            while self.pending:
                batch, size = [], 0
                while self.pending and size < MAX_BATCH_EVENTS:
                    item = self.pending.pop(0)
                    batch.append(item)
                    size += len(item[1])
                try:
                    results = await self._commit(batch)
                except Exception as exc:
                    log.exception("ingest batch of %d failed", len(batch))
                    for *_, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for (*_, fut), res in zip(batch, results, strict=True):
                    if not fut.done():
                        fut.set_result(res)
            if self._closing:
                return

    async def _commit(self, batch: list[Item]) -> list[Result]:
        deps = self.deps
        for attempt in range(5):
            try:
                now = deps.clock.now()
                asks = [
                    Ask(integ, limits, len(events)) if limits else None for integ, events, limits, _ in batch
                ]
                async with deps.db.begin() as conn:
                    uow = UnitOfWork(conn, deps.db.dialect)
                    decisions = await self.gate.admit(conn, deps.db.dialect, asks, now)
                    results: list[Result | None] = [None] * len(batch)
                    admitted: dict[str, list[int]] = {}
                    for n, ((integ, _, _, _), d) in enumerate(zip(batch, decisions, strict=True)):
                        if d is not None and not d.allowed:
                            results[n] = RateLimited(d.retry_after, d.reason)
                        else:
                            admitted.setdefault(integ, []).append(n)
                    # One process_alerts per integration for all its requests, in arrival order:
                    # its key locks and lookups are a few statements per batch instead of per
                    # request (1 alert per request made them the whole cost of a batch).
                    for integ, ns in admitted.items():
                        events = [ev for n in ns for ev in batch[n][1]]
                        outcomes = await process_alerts(uow, deps.catalog, integ, events, now)
                        at = 0
                        for n in ns:
                            results[n] = outcomes[at : at + len(batch[n][1])]
                            at += len(batch[n][1])
                    await uow.flush()
                if uow.wake:
                    deps.wake()
                return [r for r in results if r is not None]
            except (StaleIncident, IntegrityError):
                # Another instance opened or moved the same incident first: redo with fresh state.
                if attempt == 4:
                    raise
                await asyncio.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")
