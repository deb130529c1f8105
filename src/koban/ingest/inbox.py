"""The edge's half of the ingest inbox: commit accepted deliveries, one transaction per batch.

Sources whose answer needs no incident id (``sources.registry.QUEUED_KINDS``) are validated at the
edge and their raw body is appended here as one ``ingest_inbox`` row per request. Requests waiting
at the same time share one transaction (and one fsync); each caller is answered only after that
commit, so an accepted alert is on disk before its 2xx. Rate limits are decided in the same
transaction (``ingest/limits.py``): a refused request stores nothing. The worker's drain
(``ingest/drain.py``) turns the rows into incidents.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from koban.db.schema_inbox import ingest_inbox
from koban.ingest.backlog import Backlog
from koban.ingest.inbox_sqlite import SqliteInboxWriter, sqlite_path
from koban.ingest.limits import Ask, LimitGate, RateLimited
from koban.ingest.novelty import FRESH_KINDS
from koban.routing.ratelimit import Decision, Limits

if TYPE_CHECKING:
    from collections.abc import Callable

    from koban.catalog.deps import StoreDeps
    from koban.core.metrics import Metrics

log = logging.getLogger("koban.ingest")
MAX_BATCH_ROWS = 1000
LEASE_SECONDS = 0.005  # longest run of back-to-back inbox commits before other writers' turn
_INSERT = sa.insert(ingest_inbox)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One accepted request: what the drain needs to parse it again."""

    integration_id: str
    parser: str
    received_at: float
    alerts: int
    body: bytes
    fresh: bool = False  # holds an alert new to this edge: the drain claims it first (novelty.py)


Item = tuple[Delivery, Limits | None, "asyncio.Future[RateLimited | None]"]


def body_digest(d: Delivery) -> int | None:
    """64 bits of the body's BLAKE2b for sources whose rows the drain may take out of order
    (``novelty.FRESH_KINDS``): it gathers a flood's rows of one body by it (``ingest/drain.py``)
    and compares the bodies themselves before treating them as one. None for the others."""
    if d.parser not in FRESH_KINDS:
        return None
    return int.from_bytes(hashlib.blake2b(d.body, digest_size=8).digest(), "big", signed=True)


class InboxWriter:
    def __init__(
        self,
        deps: StoreDeps,
        gate: LimitGate,
        wake_drain: Callable[[], None],
        metrics: Metrics | None = None,
    ) -> None:
        self.deps = deps
        # Past its size or age the inbox refuses new deliveries with 429 (ingest/backlog.py).
        self.backlog = Backlog(deps, metrics)
        self.wake_drain = wake_drain  # rows committed: the drain (in this process) looks at once
        self.gate = gate  # shared with the synchronous path: one view of which windows are full
        self.pending: deque[Item] = deque()  # appended on the loop, taken on the loop or by _burst
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        path = sqlite_path(deps.settings.effective_database_url)
        # SQLite: batches without rate limits skip the async driver (ingest/inbox_sqlite.py).
        self.raw = SqliteInboxWriter(deps.db, path, deps.settings.sqlite_synchronous) if path else None

    def start(self) -> None:
        self._closing = False
        self._task = asyncio.create_task(self._run(), name="koban-inbox-writer")
        self.backlog.start()

    async def close(self) -> None:
        await self.backlog.stop()
        self._closing = True
        self.ready.set()
        if self._task:
            await self._task
            self._task = None
        if self.raw is not None:
            self.raw.close()

    async def submit(self, delivery: Delivery, limits: Limits | None) -> None:
        """Return once ``delivery`` is committed; raise ``RateLimited`` (nothing stored) when over limits."""
        fut = self.submit_nowait(delivery, limits)
        if fut is not None:
            result = await fut
        else:  # no writer task (CLI, tests): commit directly
            self._precheck(delivery, limits)
            done: asyncio.Future[RateLimited | None] = asyncio.get_running_loop().create_future()
            result = (await self._commit([(delivery, limits, done)]))[0]
        if result is not None:
            raise result

    def _precheck(self, delivery: Delivery, limits: Limits | None) -> None:
        """Refuse from memory a request while the inbox is over its bound, or whose window is
        already known to be full."""
        full = self.backlog.refused(delivery.received_at)
        if full is not None:
            raise full
        if limits is not None:
            refused = self.gate.precheck(delivery.integration_id, limits, self.deps.clock.now())
            if refused is not None:
                raise refused

    def submit_nowait(
        self, delivery: Delivery, limits: Limits | None
    ) -> asyncio.Future[RateLimited | None] | None:
        """``submit`` without a coroutine, for the HTTP protocol's direct path (ingest/http_protocol.py):
        a future that resolves after commit to None (stored) or the ``RateLimited`` refusal (nothing
        stored), or fails with the batch's error. Raises ``RateLimited`` when refused from memory.
        None when no writer task runs (the caller takes ``submit``)."""
        if self._task is None or self._task.done():
            return None
        self._precheck(delivery, limits)
        fut: asyncio.Future[RateLimited | None] = asyncio.get_running_loop().create_future()
        self.pending.append((delivery, limits, fut))
        self.ready.set()
        return fut

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.ready.wait()
            self.ready.clear()
            while self.pending:
                if self.raw is not None and self.pending[0][1] is None:
                    # Without limits, on SQLite: the writer thread commits back to back (_burst).
                    await self.raw.run(functools.partial(self._burst, loop))
                    continue
                batch = [self.pending.popleft() for _ in range(min(MAX_BATCH_ROWS, len(self.pending)))]
                try:
                    results = await self._commit(batch)
                except Exception as exc:
                    self._settle(batch, exc)
                    continue
                for (*_, fut), res in zip(batch, results, strict=True):
                    if not fut.done():
                        fut.set_result(res)
            if self._closing:
                return

    def _burst(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the SQLite writer's thread, under the process's write lock: commit the requests
        waiting without rate limits, one transaction per batch, and go straight on with those that
        queued during the fsync, for at most ``LEASE_SECONDS`` (then the lock is released and taken
        again, so the worker and the drain get their turn). Each batch's callers are answered in one
        callback on the loop. Going back to the loop between commits cost more than the fsync: the
        writer was busy 98% of the time for ~9 requests per ~730 us cycle, of which ~250 us fsync."""
        raw = self.raw
        assert raw is not None
        pending = self.pending
        ends = time.monotonic() + LEASE_SECONDS
        while True:
            items: list[Item] = []
            # Only this thread takes from ``pending`` meanwhile (the loop only appends: deque ops
            # are atomic), so the head seen is the head taken.
            while pending and len(items) < MAX_BATCH_ROWS and pending[0][1] is None:
                items.append(pending.popleft())
            if not items:
                return
            error: Exception | None = None
            try:
                raw.commit_rows(
                    [
                        (d.integration_id, d.parser, d.received_at, d.alerts, d.body, d.fresh, body_digest(d))
                        for d, _, _ in items
                    ]
                )
            except Exception as exc:
                error = exc
            loop.call_soon_threadsafe(self._settle, items, error)
            if time.monotonic() >= ends:
                return

    def _settle(self, items: list[Item], error: Exception | None) -> None:
        """Answer a committed batch's callers (``error``: the batch failed, nothing of it stored)."""
        if error is None:
            self.backlog.committed(len(items), items[0][0].received_at)
            self.wake_drain()
        else:
            log.error("inbox batch of %d failed", len(items), exc_info=error)
        for *_, fut in items:
            if fut.done():  # the caller went away; its row is committed all the same
                continue
            if error is None:
                fut.set_result(None)
            else:
                fut.set_exception(error)

    async def _commit(self, batch: list[Item]) -> list[RateLimited | None]:
        deps = self.deps
        now = deps.clock.now()
        asks = [Ask(d.integration_id, limits, d.alerts) if limits else None for d, limits, _ in batch]
        if self.raw is not None and not any(asks):
            await self.raw.write(
                [
                    (d.integration_id, d.parser, d.received_at, d.alerts, d.body, d.fresh, body_digest(d))
                    for d, _, _ in batch
                ]
            )
            self.backlog.committed(len(batch), batch[0][0].received_at)
            self.wake_drain()
            return [None] * len(batch)
        results: list[RateLimited | None] = []
        rows = []
        async with deps.db.begin() as conn:
            decisions: list[Decision | None] = (
                await self.gate.admit(conn, deps.db.dialect, asks, now) if any(asks) else [None] * len(asks)
            )
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
                        "fresh": d.fresh,
                        "digest": body_digest(d),
                    }
                )
            if rows:
                await conn.execute(_INSERT, rows)
                if deps.db.dialect == "postgresql":
                    # Other instances' drains wake on commit (db/due_signal.py).
                    await conn.execute(sa.text("SELECT pg_notify('koban_due', '')"))
        if rows:
            self.backlog.committed(len(rows), now)
            self.wake_drain()
        return results
