"""Rows a transaction will write, gathered so each table gets one executemany at the end.

The ingest path handles a whole batch of alerts in one transaction; gathering the new incidents,
timeline, delivery and alert rows keeps that to a handful of statements however many alerts arrived.

New incidents get their ids up front (``new_incident_id``) so timeline rows, pages and timers can
refer to them before the INSERT runs. Whoever reads or updates an incident row in the same
transaction calls ``flush_incidents`` first, so a pending incident is never invisible to SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db import schema as t

ID_CHUNK = 100
# Built once: every new incident row carries every column, so one compiled statement serves all.
_INSERT_INCIDENTS = sa.insert(t.incidents)


@dataclass
class UnitOfWork:
    conn: AsyncConnection
    dialect: str
    timeline: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    # open_key -> pending incident row, so a batch can tell when it touches one it opened itself.
    pending_open: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Per-transaction memo for pure work repeated across a batch (frozen plans: same policy, same now).
    memo: dict[Any, Any] = field(default_factory=dict)
    _ids: list[int] = field(default_factory=list)
    _next_id: int | None = None
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

    async def new_incident_id(self) -> int:
        """An id for an incident whose INSERT waits for ``flush_incidents``.

        SQLite: this transaction holds the write lock (``BEGIN IMMEDIATE``), so max(id) read once
        stays ours until commit. PostgreSQL: ids are drawn from the sequence in chunks; unused ones
        leave gaps, as a rolled-back INSERT would.
        """
        if self.dialect == "postgresql":
            if not self._ids:
                q = sa.text(
                    "SELECT nextval(pg_get_serial_sequence('incidents', 'id')) FROM generate_series(1, :n)"
                )
                self._ids = sorted((await self.conn.execute(q, {"n": ID_CHUNK})).scalars(), reverse=True)
            return self._ids.pop()
        if self._next_id is None:
            q = sa.select(sa.func.coalesce(sa.func.max(t.incidents.c.id), 0))
            self._next_id = (await self.conn.execute(q)).scalar_one()
        self._next_id += 1
        return self._next_id

    def add_incident(self, row: dict[str, Any]) -> None:
        self.incidents.append(dict(row))
        if row.get("open_key"):
            self.pending_open[row["open_key"]] = row

    async def flush_incidents(self) -> None:
        """INSERT the incidents opened so far (one executemany) before SQL touches them."""
        if self.incidents:
            rows, self.incidents, self.pending_open = self.incidents, [], {}
            await self.conn.execute(_INSERT_INCIDENTS, rows)

    async def flush(self) -> None:
        c = self.conn
        await self.flush_incidents()  # first: the rows below refer to them
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
