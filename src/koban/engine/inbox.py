"""The edge's half of the ingest inbox: commit accepted deliveries, one transaction per batch.

Sources whose answer needs no incident id (``sources.registry.QUEUED_KINDS``) are validated at the
edge and their raw body is appended here as one ``ingest_inbox`` row per request. Requests waiting
at the same time share one transaction (and one fsync); each caller is answered only after that
commit, so an accepted alert is on disk before its 2xx. Rate limits are decided in the same
transaction (``engine/limits.py``): a refused request stores nothing. The worker's drain
(``engine/inbox_drain.py``) turns the rows into incidents.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from koban.db.schema_inbox import ingest_inbox
from koban.engine.inbox_sqlite import SqliteInboxWriter, sqlite_path
from koban.engine.limits import Ask, LimitGate, RateLimited
from koban.routing.ratelimit import Limits

if TYPE_CHECKING:
    from koban.engine.kernel import Kernel

log = logging.getLogger("koban.ingest")
MAX_BATCH_ROWS = 1000
_INSERT = sa.insert(ingest_inbox)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One accepted request: what the drain needs to parse it again."""

    integration_id: str
    parser: str
    received_at: float
    alerts: int
    body: bytes


Item = tuple[Delivery, Limits | None, "asyncio.Future[RateLimited | None]"]


class InboxWriter:
    def __init__(self, k: Kernel, gate: LimitGate) -> None:
        self.k = k
        self.gate = gate  # shared with the synchronous path: one view of which windows are full
        self.pending: list[Item] = []
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        path = sqlite_path(k.settings.effective_database_url)
        # SQLite: batches without rate limits skip the async driver (engine/inbox_sqlite.py).
        self.raw = SqliteInboxWriter(k.db, path, k.settings.sqlite_synchronous) if path else None

    def start(self) -> None:
        self._closing = False
        self._task = asyncio.create_task(self._run(), name="koban-inbox-writer")

    async def close(self) -> None:
        self._closing = True
        self.ready.set()
        if self._task:
            await self._task
            self._task = None
        if self.raw is not None:
            self.raw.close()

    async def submit(self, delivery: Delivery, limits: Limits | None) -> None:
        """Return once ``delivery`` is committed; raise ``RateLimited`` (nothing stored) when over limits."""
        if limits is not None:
            refused = self.gate.precheck(delivery.integration_id, limits, self.k.clock.now())
            if refused is not None:
                raise refused
        fut: asyncio.Future[RateLimited | None] = asyncio.get_running_loop().create_future()
        item: Item = (delivery, limits, fut)
        if self._task is None or self._task.done():
            result = (await self._commit([item]))[0]  # no writer task (CLI, tests): commit directly
        else:
            self.pending.append(item)
            self.ready.set()
            result = await fut
        if result is not None:
            raise result

    def submit_nowait(
        self, delivery: Delivery, limits: Limits | None
    ) -> asyncio.Future[RateLimited | None] | None:
        """``submit`` without a coroutine, for the HTTP protocol's direct path (api/http_protocol.py):
        a future that resolves after commit to None (stored) or the ``RateLimited`` refusal (nothing
        stored), or fails with the batch's error. Raises ``RateLimited`` when refused from memory.
        None when no writer task runs (the caller takes ``submit``)."""
        if self._task is None or self._task.done():
            return None
        if limits is not None:
            refused = self.gate.precheck(delivery.integration_id, limits, self.k.clock.now())
            if refused is not None:
                raise refused
        fut: asyncio.Future[RateLimited | None] = asyncio.get_running_loop().create_future()
        self.pending.append((delivery, limits, fut))
        self.ready.set()
        return fut

    async def _run(self) -> None:
        while True:
            await self.ready.wait()
            self.ready.clear()
            while self.pending:
                batch, self.pending = self.pending[:MAX_BATCH_ROWS], self.pending[MAX_BATCH_ROWS:]
                try:
                    results = await self._commit(batch)
                except Exception as exc:
                    log.exception("inbox batch of %d failed", len(batch))
                    for *_, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for (*_, fut), res in zip(batch, results, strict=True):
                    if not fut.done():
                        fut.set_result(res)
            if self._closing:
                return

    async def _commit(self, batch: list[Item]) -> list[RateLimited | None]:
        k = self.k
        now = k.clock.now()
        asks = [Ask(d.integration_id, limits, d.alerts) if limits else None for d, limits, _ in batch]
        if self.raw is not None and not any(asks):
            await self.raw.write(
                [(d.integration_id, d.parser, d.received_at, d.alerts, d.body) for d, _, _ in batch]
            )
            k.drain.wake()
            return [None] * len(batch)
        results: list[RateLimited | None] = []
        rows = []
        async with k.db.begin() as conn:
            decisions = await self.gate.admit(conn, k.db.dialect, asks, now) if any(asks) else asks
            for (d, _, _), decision in zip(batch, decisions, strict=True):
                if decision is not None and not decision.allowed:
                    results.append(RateLimited(decision.retry_after, decision.reason))
                    continue
                results.append(None)
                rows.append(
                    {
                        "integration_id": d.integration_id,
                        "parser": d.parser,
                        "received_at": d.received_at,
                        "alerts": d.alerts,
                        "body": d.body,
                    }
                )
            if rows:
                await conn.execute(_INSERT, rows)
                if k.db.dialect == "postgresql":
                    # Other instances' drains wake on commit (engine/due_signal.py).
                    await conn.execute(sa.text("SELECT pg_notify('koban_due', '')"))
        if rows:
            k.drain.wake()
        return results
