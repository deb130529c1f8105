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
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db import schema as t
from koban.db.bulk import Bulk, BulkInsert

ID_CHUNK = 100
# Driver-level executemany (db/bulk.py): the bulk rows of a batch skip SQLAlchemy's per-row
# parameter processing. Every row of a list carries the same columns.
_INSERT_INCIDENTS = BulkInsert(t.incidents)
_INSERT_TIMELINE = BulkInsert(t.timeline)
_INSERT_ALERTS = BulkInsert(t.alerts)
# The unique keys make a repeated step a no-op instead of a second page or timer.
_INSERT_DELIVERIES = BulkInsert(t.deliveries, ignore_conflicts=True)
_INSERT_JOBS = BulkInsert(t.jobs, ignore_conflicts=True)
_DROP_TIMERS = Bulk(
    lambda _dialect: sa.delete(t.jobs).where(
        t.jobs.c.kind == "escalate",
        t.jobs.c.ref == sa.bindparam("_ref"),
        t.jobs.c.fence < sa.bindparam("_fence"),
    )
)
# Incident UPDATE statements (built once per shape by paging/incidents.update_stmt) as driver-level
# executemany, one per statement object.
_BULK_UPDATES: dict[Any, Bulk] = {}


def _bulk_update(stmt: Any) -> Bulk:
    bulk = _BULK_UPDATES.get(stmt)
    if bulk is None:
        bulk = _BULK_UPDATES[stmt] = Bulk(lambda _dialect: stmt)
    return bulk


class StaleIncident(RuntimeError):
    """Another transaction moved the incident on first; the caller retries with fresh state."""


@dataclass
class UnitOfWork:
    conn: AsyncConnection
    dialect: str
    timeline: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    # Per-transaction memo for pure work repeated across a batch (frozen plans: same policy, same now).
    memo: dict[Any, Any] = field(default_factory=dict)
    _ids: list[int] = field(default_factory=list)
    _next_id: int | None = None
    jobs: list[dict[str, Any]] = field(default_factory=list)
    drop_timers_below: dict[int, int] = field(default_factory=dict)
    # Versioned incident UPDATEs held for one executemany (SQLite batches that loaded their rows
    # in this transaction: the timer batch). Checked by total rowcount at flush.
    defer_incident_updates: bool = False
    _incident_updates: list[tuple[Any, dict[str, Any], bool]] = field(default_factory=list)
    # Set when something became due now, so the caller wakes the workers after commit.
    wake: bool = False
    # The keys of the delivery rows written so far that have a due time: what the caller may hand
    # straight to this process's sender in the same transaction (``paging/worker.py`` ``hand_off``).
    delivery_keys: list[str] = field(default_factory=list)

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
                # The column is 32 wide; a source name from a payload can be longer (PostgreSQL
                # refuses it, which turned an accepted alert into a 500).
                "via": via[:32] if via else via,
                "data": data or {},
            }
        )

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
            top = sa.select(sa.func.coalesce(sa.func.max(t.incidents.c.id), 0))
            self._next_id = (await self.conn.execute(top)).scalar_one()
        self._next_id += 1
        return self._next_id

    def add_incident(self, row: dict[str, Any]) -> None:
        self.incidents.append(dict(row))

    async def update_incident(self, stmt: Any, params: dict[str, Any]) -> None:
        """A versioned UPDATE (``esc_version = :_v``); raises ``StaleIncident`` when it matched no row."""
        if self.defer_incident_updates and self.dialect == "sqlite":
            self._incident_updates.append((stmt, params, True))
            return
        await self.flush_incidents()
        if (await self.conn.execute(stmt, params)).rowcount != 1:
            raise StaleIncident(params["_id"])

    def update_incident_later(self, stmt: Any, params: dict[str, Any]) -> None:
        """An unversioned UPDATE (a repeat's count, members), sent with its like at the next flush."""
        self._incident_updates.append((stmt, params, False))

    @property
    def incidents_pending(self) -> bool:
        return bool(self.incidents or self._incident_updates)

    async def flush_incidents(self) -> None:
        """Write the incidents opened or moved so far (an executemany each) before SQL reads them."""
        if self.incidents:
            rows, self.incidents = self.incidents, []
            await _INSERT_INCIDENTS.run(self.conn, rows)
        pending, self._incident_updates = self._incident_updates, []
        i = 0
        while i < len(pending):
            # Consecutive runs of one statement: the same incident moved twice stays in order.
            j = i
            while j < len(pending) and pending[j][0] is pending[i][0]:
                j += 1
            params = [p for _, p, _ in pending[i:j]]
            res = await _bulk_update(pending[i][0]).run(self.conn, params)
            # sqlite3 sums rowcount over an executemany (versioned updates are deferred on SQLite only).
            if pending[i][2] and res is not None and res.rowcount != len(params):
                raise StaleIncident(params[0]["_id"])
            i = j

    async def flush_deliveries_of(self, incident_id: int) -> None:
        """Write this incident's buffered deliveries now, so that a statement over the table sees
        them (an incident opened and stopped in one batch cancels its pages as one by one would)."""
        mine = [row for row in self.deliveries if row["incident_id"] == incident_id]
        if not mine:
            return
        await self.flush_incidents()  # the rows refer to it
        self.deliveries = [row for row in self.deliveries if row["incident_id"] != incident_id]
        await _INSERT_DELIVERIES.run(self.conn, mine)
        self.delivery_keys.extend(row["key"] for row in mine if row["due_at"] is not None)

    async def flush(self) -> None:
        c = self.conn
        await self.flush_incidents()  # first: the rows below refer to them
        if self.dialect == "postgresql" and (self.wake or self.jobs):
            # Delivered to other instances only when this transaction commits (db/due_signal.py).
            await c.execute(sa.text("SELECT pg_notify('koban_due', '')"))
        await _INSERT_TIMELINE.run(c, self.timeline)
        await _INSERT_ALERTS.run(c, self.alerts)
        await _INSERT_DELIVERIES.run(c, self.deliveries)
        self.delivery_keys.extend(row["key"] for row in self.deliveries if row["due_at"] is not None)
        if self.drop_timers_below:
            drops = [{"_ref": ref, "_fence": v} for ref, v in self.drop_timers_below.items()]
            await _DROP_TIMERS.run(c, drops)
        await _INSERT_JOBS.run(c, self.jobs)
        self.timeline, self.alerts, self.deliveries, self.jobs = [], [], [], []
        self.drop_timers_below = {}
