"""Rows a transaction will write, gathered so each table gets one executemany at the end.

The ingest path handles a whole batch of alerts in one transaction; gathering the timeline,
delivery and alert rows keeps that to a handful of statements however many alerts arrived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db import schema as t


@dataclass
class UnitOfWork:
    conn: AsyncConnection
    dialect: str
    timeline: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    drop_timers_below: dict[int, int] = field(default_factory=dict)
    # Set when something became due now, so the caller wakes the workers after commit.
    wake: bool = False

    def note(
        self,
        incident_id: int,
        now: float,
        kind: str,
        actor: str | None = None,
        via: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.timeline.append(
            {
                "incident_id": incident_id,
                "at": now,
                "kind": kind,
                "actor": actor,
                "via": via,
                "data": data or {},
            }
        )

    def _insert_ignore(self, table: sa.Table) -> Any:
        ins = (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)
        return ins.on_conflict_do_nothing()

    async def flush(self) -> None:
        c = self.conn
        if self.dialect == "postgresql" and (self.wake or self.jobs):
            # Delivered to other instances only when this transaction commits (engine/due_signal.py).
            await c.execute(sa.text("SELECT pg_notify('koban_due', '')"))
        if self.timeline:
            await c.execute(sa.insert(t.timeline), self.timeline)
        if self.alerts:
            await c.execute(sa.insert(t.alerts), self.alerts)
        if self.deliveries:
            # The unique key makes a repeated step a no-op instead of a second page.
            await c.execute(self._insert_ignore(t.deliveries), self.deliveries)
        for incident_id, version in self.drop_timers_below.items():
            await c.execute(
                sa.delete(t.jobs).where(
                    t.jobs.c.kind == "escalate", t.jobs.c.ref == incident_id, t.jobs.c.fence < version
                )
            )
        if self.jobs:
            await c.execute(self._insert_ignore(t.jobs), self.jobs)
        self.timeline, self.alerts, self.deliveries, self.jobs = [], [], [], []
        self.drop_timers_below = {}
