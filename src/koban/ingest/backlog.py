"""The inbox's bound: past a size or an age, the edge refuses new deliveries with 429.

A flood the drain cannot keep up with would otherwise grow ``ingest_inbox`` until the disk fills.
Past ``KOBAN_INGEST_MAX_BACKLOG_ROWS`` waiting rows, or when the oldest has waited
``KOBAN_INGEST_MAX_BACKLOG_AGE_SECONDS``, every queued source is answered 429 with ``Retry-After``
in its own shape (``ingest/routes.py``, ``ingest/pagerduty.py``); nothing is stored for it, and
nothing already accepted is dropped: the drain works the backlog down and the edge accepts again.
Senders retry (Prometheus re-sends every firing alert each evaluation anyway).

The check costs one comparison per request: this process keeps the inbox's size and age as last
counted, refreshed every ``REFRESH_SECONDS`` by a background look (a count bounded by the limit,
and the oldest row by primary key), plus the rows this process committed since. Other instances'
rows are seen at the next look, so the bound may be passed by about one second of their ingest.
Parked rows (``error`` set) wait for a person and are not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import TYPE_CHECKING

import sqlalchemy as sa

from koban.db.schema_inbox import ingest_inbox as ib
from koban.ingest.limits import RateLimited

if TYPE_CHECKING:
    from koban.catalog.deps import StoreDeps
    from koban.core.metrics import Metrics

log = logging.getLogger("koban.ingest")
REFRESH_SECONDS = 1.0
# Counted past the limit only this far (the count is bounded so a huge backlog stays cheap to look at).
UNBOUNDED_COUNT = 1_000_000
RETRY_MIN_SECONDS = 5


class BacklogFull(RateLimited):
    kind = "backlog"


def refusal(rows: int, oldest: float | None, now: float, max_rows: int, max_age: float) -> BacklogFull | None:
    """The 429 a delivery gets while the inbox holds ``rows`` waiting rows, the oldest received at
    ``oldest``; None when it may be accepted. A limit of 0 is off."""
    if max_rows and rows >= max_rows:
        reason = f"ingest backlog is full ({rows} deliveries waiting, limit {max_rows}); retry later"
        return BacklogFull(RETRY_MIN_SECONDS, reason)
    if max_age and oldest is not None and now - oldest >= max_age:
        waited = now - oldest
        reason = f"ingest backlog is {waited:.0f} s behind (limit {max_age:g} s); retry later"
        return BacklogFull(max(RETRY_MIN_SECONDS, math.ceil(waited - max_age)), reason)
    return None


class Backlog:
    """This process's view of the inbox's size and age, and the refusal it implies."""

    def __init__(self, deps: StoreDeps, metrics: Metrics | None = None) -> None:
        self.deps = deps
        self.metrics = metrics
        self.max_rows = deps.settings.ingest_max_backlog_rows
        self.max_age = deps.settings.ingest_max_backlog_age_seconds
        self.rows = 0
        self.oldest: float | None = None  # received_at of the oldest waiting row
        self._task: asyncio.Task[None] | None = None

    def refused(self, now: float) -> BacklogFull | None:
        """On the hot path: from the cached view only."""
        if self.rows == 0 or not (self.max_rows or self.max_age):
            return None
        return refusal(self.rows, self.oldest, now, self.max_rows, self.max_age)

    def committed(self, rows: int, received_at: float) -> None:
        """This process committed ``rows`` more (seen before the next refresh counts them)."""
        self.rows += rows
        if self.oldest is None:
            self.oldest = received_at

    async def refresh(self) -> None:
        """Count the waiting rows (up to just past the limit) and find the oldest."""
        cap = self.max_rows + 1 if self.max_rows else UNBOUNDED_COUNT
        waiting = sa.select(ib.c.id).where(ib.c.error.is_(None))
        async with self.deps.db.read() as conn:
            rows = (
                await conn.execute(sa.select(sa.func.count()).select_from(waiting.limit(cap).subquery()))
            ).scalar()
            oldest = (
                await conn.execute(
                    sa.select(ib.c.received_at).where(ib.c.error.is_(None)).order_by(ib.c.id).limit(1)
                )
            ).scalar()
        self.rows, self.oldest = int(rows or 0), oldest
        self._report()

    def _report(self) -> None:
        if self.metrics is None:
            return
        self.metrics.backlog_rows.set(self.rows)
        age = 0.0 if self.oldest is None else max(0.0, self.deps.clock.now() - self.oldest)
        self.metrics.backlog_age.set(age)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="koban-inbox-backlog")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:  # the database is away: keep the last view, the edge says so itself
                log.warning("could not look at the ingest backlog", exc_info=True)
            await asyncio.sleep(REFRESH_SECONDS)
