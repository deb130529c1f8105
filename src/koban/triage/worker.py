"""The worker's share of routing: due aggregation groups, due heartbeat checks, and forgetting
expired key clocks. Called from ``Worker.tick``; every piece is a leased row (or an idempotent
delete), so any instance may run it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db import schema_routing as r
from koban.db.queue import next_due
from koban.db.uow import UnitOfWork
from koban.triage import grouping
from koban.triage import heartbeats as hb
from koban.triage.alerts import process_service_alerts
from koban.triage.key_clocks import forget_expired

if TYPE_CHECKING:
    from koban.catalog.deps import StoreDeps
CLEANUP_EVERY_SECONDS = 300.0


class RoutingWork:
    def __init__(self, deps: StoreDeps) -> None:
        self.deps = deps
        self.last_cleanup = 0.0

    async def tick(self, *, groups: bool = True, heartbeats: bool = True) -> int:
        """``groups``/``heartbeats`` False when the caller already knows none is due."""
        deps = self.deps
        done = (await grouping.run_due(deps, process_service_alerts) if groups else 0) + (
            await hb.run_due(deps) if heartbeats else 0
        )
        now = deps.clock.now()
        if now - self.last_cleanup >= CLEANUP_EVERY_SECONDS:
            self.last_cleanup = now
            async with deps.db.begin() as conn:
                await forget_expired(UnitOfWork(conn, deps.db.dialect), now)
        return done

    @staticmethod
    async def soonest(conn: AsyncConnection) -> list[float]:
        found = [await next_due(conn, r.alert_groups), await next_due(conn, r.heartbeat_state)]
        return [x for x in found if x is not None]
