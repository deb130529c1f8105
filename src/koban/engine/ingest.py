"""Group commit for inbound alerts: many requests, one transaction, every caller answered after commit.

Each request hands its parsed events to ``submit`` and waits. One task drains everything waiting into
a single transaction (process alerts, write incidents, timeline, pages), commits, then answers all of
them: "on disk before the 2xx" at the cost of one fsync per batch instead of one per alert.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from koban.domain.alerts import AlertEvent
from koban.engine.alerts import AlertOutcome, process_alerts
from koban.engine.incidents import StaleIncident
from koban.engine.uow import UnitOfWork

if TYPE_CHECKING:
    from koban.engine.kernel import Kernel

log = logging.getLogger("koban.ingest")
MAX_BATCH_EVENTS = 2000

Item = tuple[str, list[AlertEvent], "asyncio.Future[list[AlertOutcome]]"]


class IngestBatcher:
    def __init__(self, k: Kernel) -> None:
        self.k = k
        self.pending: list[Item] = []
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="koban-ingest")

    async def close(self) -> None:
        self._closing = True
        self.ready.set()
        if self._task:
            await self._task

    async def submit(self, integration_id: str, events: list[AlertEvent]) -> list[AlertOutcome]:
        if self._task is None or self._task.done():
            # No batcher running (CLI, tests): commit directly.
            return (
                await self._commit([(integration_id, events, asyncio.get_running_loop().create_future())])
            )[0]
        fut: asyncio.Future[list[AlertOutcome]] = asyncio.get_running_loop().create_future()
        self.pending.append((integration_id, events, fut))
        self.ready.set()
        return await fut

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
                    for _, _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for (_, _, fut), res in zip(batch, results, strict=True):
                    if not fut.done():
                        fut.set_result(res)
            if self._closing:
                return

    async def _commit(self, batch: list[Item]) -> list[list[AlertOutcome]]:
        k = self.k
        for attempt in range(5):
            try:
                now = k.clock.now()
                async with k.db.begin() as conn:
                    uow = UnitOfWork(conn, k.db.dialect)
                    results = [
                        await process_alerts(uow, k.catalog, integ, events, now) for integ, events, _ in batch
                    ]
                    await uow.flush()
                if uow.wake:
                    k.wake()
                return results
            except (StaleIncident, IntegrityError):
                # Another instance opened or moved the same incident first: redo with fresh state.
                if attempt == 4:
                    raise
                await asyncio.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")
