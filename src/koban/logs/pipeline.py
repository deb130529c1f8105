"""Log alerts into koban's alert pipeline: the same ``triage`` step as every other source.

A log rule's (or a failed digest's) ``AlertEvent``s go through ``process_service_alerts`` in one
transaction, so dedup keys, routing, silences, grouping, escalation and calls apply as for an alert
received over HTTP. The alerts rows name ``log_rule:<id>`` (or ``digest:<id>``) as their integration.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from koban.catalog.deps import StoreDeps
from koban.db.uow import StaleIncident, UnitOfWork
from koban.domain.alerts import AlertEvent
from koban.triage.alerts import process_service_alerts


class Pipeline:
    """``emit(service, events)``: the port rule and digest runs raise alerts through."""

    def __init__(self, deps: StoreDeps) -> None:
        self.deps = deps

    async def __call__(self, service: str, events: list[AlertEvent]) -> None:
        if not events:
            return
        catalog = self.deps.catalog
        if service not in catalog.services:
            return  # the service was removed since the rule was read: nobody to page
        source = str(events[0].labels.get("log_rule") or f"digest:{events[0].labels.get('digest', '')}")
        integration = source if source.startswith("digest:") else f"log_rule:{source}"
        for attempt in range(5):
            try:
                now = self.deps.clock.now()
                async with self.deps.db.begin() as conn:
                    uow = UnitOfWork(conn, self.deps.db.dialect)
                    await process_service_alerts(
                        uow, catalog, service, events, now, integration_id=integration[:128]
                    )
                    await uow.flush()
                if uow.wake:
                    self.deps.wake()
                return
            except (StaleIncident, IntegrityError):
                if attempt == 4:
                    raise
                await asyncio.sleep(0.01 * (attempt + 1))


def as_of(ts: float) -> datetime:
    """The clock's epoch seconds as the aware instant the logs' pure functions take."""
    return datetime.fromtimestamp(ts, UTC)
