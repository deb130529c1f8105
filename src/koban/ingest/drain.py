"""The worker's half of the ingest inbox: accepted deliveries → alert rules → incidents.

Runs wherever the worker runs (``koban serve`` without ``--no-worker``, ``koban worker``). Each
round claims the oldest rows, parses them with the source that validated them at the edge, calls
``process_alerts`` once per run of consecutive rows of one integration, in arrival order, and deletes the rows
in the same transaction: a row is processed exactly once, or not at all and claimed again.

Order matters for events without a time of their own (PagerDuty, Zabbix, Kibana): the rules order
them by arrival (``domain/incident_rules.py``). So one drain runs at a time: SQLite has one writer
anyway; on PostgreSQL a transaction-scoped advisory lock serialises the drains of all instances,
and ``FOR UPDATE SKIP LOCKED`` keeps a row that one transaction holds out of any other claim. A
client that waits for its 2xx before sending the next event therefore has its events applied in
the order it sent them, as with the synchronous path.

A row that cannot be processed (its integration was deleted, or the alert rules fail on that row
alone, not the database) is not dropped: it keeps an ``error`` and stays for a person to see, and
the rest flows on; clearing ``error`` queues it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from koban.db.schema_inbox import ingest_inbox as ib
from koban.db.uow import UnitOfWork
from koban.domain.alerts import AlertEvent
from koban.ingest.collapse import Run
from koban.paging.incidents import StaleIncident
from koban.sources.base import InboundRequest, PayloadError
from koban.sources.json_body import parse_json
from koban.sources.registry import get_source
from koban.triage.alerts import process_alerts
from koban.triage.repeats import Repeats, collapse

if TYPE_CHECKING:
    from koban.catalog.deps import StoreDeps
log = logging.getLogger("koban.inbox")
# A batch holds the SQLite write lock while it runs, and a fresh row (a new alert) waits for the
# batch in progress: its distinct alerts are what it costs (~100-300 us each on a loaded 2-core box,
# PostgreSQL the slower), so 200 keep it near 100 ms there, within the 250 ms a new alert's page
# has (issue 18; 500 made 150-400 ms on PostgreSQL). Rows whose body the batch holds already cost
# little (collapsed repeats): up to BATCH_ROWS of them join, which is what lets the drain keep pace
# with a flood (the smaller batches cost ~20 % of the drain's rate alone: docs/benchmarks.md).
BATCH_ROWS = 500
BATCH_ALERTS = 200
BODY_CHUNK = 50
RETRIES = 5
# Failures of the database rather than of a row's content: never a reason to park a row.
TRANSIENT = (DBAPIError, OSError, TimeoutError)
# pg_advisory_xact_lock key: "koban inbox" (any constant no other lock uses).
ADVISORY_KEY = 0x6B6F62616E696E62


class InboxDrain:
    def __init__(self, deps: StoreDeps) -> None:
        self.deps = deps
        self.ready = asyncio.Event()
        self._stop = False
        # Fresh rows (a new alert) and the oldest take turns, so neither can starve the other:
        # a new alert waits at most for one batch of the oldest rows.
        self._fresh_turn = True
        # Off: every delivery's every event applied alone, as before repeats collapsed (the
        # property tests' reference: tests/ingest/test_inbox_drain_props.py).
        self.collapse = True

    def wake(self) -> None:
        self.ready.set()

    def stop(self) -> None:
        self._stop = True
        self.ready.set()

    async def run(self) -> None:
        failures = 0
        while not self._stop:
            self.ready.clear()
            try:
                done = await self.drain_once()
                failures = 0
            except Exception:
                failures += 1
                log.exception("inbox drain failed (%d in a row)", failures)
                await asyncio.sleep(min(30.0, 0.5 * 2**failures))
                continue
            if not done and not self._stop:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.ready.wait(), self.deps.settings.poll_seconds)

    async def drain_all(self) -> int:
        """Process everything waiting (tests, the bench); the number of rows processed."""
        total = 0
        while n := await self.drain_once():
            total += n
        return total

    async def drain_once(self, limit: int = BATCH_ROWS) -> int:
        """One batch of up to ``limit`` rows; the number it took off the inbox (0: nothing waiting)."""
        async with self.deps.db.read() as conn:  # a cheap look first: claiming takes the write lock
            if (await conn.execute(sa.select(ib.c.id).where(ib.c.error.is_(None)).limit(1))).first() is None:
                return 0
        try:
            return await self._retrying(limit)
        except TRANSIENT:
            raise  # the database, not a row: the loop backs off and tries again
        except Exception:
            # One bad row must not hold the queue: retry the batch's first row alone (the same
            # turn claims it again: a failed batch leaves the turn as it was); if it fails alone, park it.
            log.exception("inbox batch failed; isolating its first row")
            try:
                return await self._retrying(1)
            except TRANSIENT:
                raise
            except Exception as exc:
                await self._park_first(
                    f"processing failed: {type(exc).__name__}: {exc}"[:2000], self._fresh_turn
                )
                return 1

    async def _retrying(self, limit: int) -> int:
        for attempt in range(RETRIES):
            try:
                return await self._batch(limit)
            except (StaleIncident, IntegrityError):
                # Another instance's synchronous ingest moved the same incident first: fresh state.
                if attempt == RETRIES - 1:
                    raise
                await asyncio.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _batch(self, limit: int) -> int:
        deps = self.deps
        async with deps.db.begin() as conn:
            rows = await _claim(conn, deps.db.dialect, limit, self._fresh_turn, self.collapse)
            if not rows:
                return 0
            now = deps.clock.now()
            runs, failed = await self._parse(rows)
            uow = UnitOfWork(conn, deps.db.dialect)
            for run in runs:
                await process_alerts(uow, deps.catalog, run.integration_id, run.events, now, run.repeats)
            await uow.flush()
            for row_id, error in failed.items():
                await conn.execute(sa.update(ib).where(ib.c.id == row_id).values(error=error))
            done = [r.id for r in rows if r.id not in failed]
            if done:
                await conn.execute(sa.delete(ib).where(ib.c.id.in_(done)))
        # Committed: next turn the oldest after fresh rows (only the fresh query returns all fresh).
        self._fresh_turn = not all(r.fresh for r in rows)
        if uow.wake:
            deps.wake()
        return len(rows)

    async def _parse(self, rows: list[Any]) -> tuple[list[_Run], dict[int, str]]:
        """Runs of consecutive rows of one integration as (integration, events, repeats), in
        arrival order, and the rows that cannot become events. One ``process_alerts`` per run keeps
        the order of the deliveries (a busy integration is one run for the whole batch); within a
        run, rows of one body are parsed once and their repeats gathered (``ingest/collapse.py``),
        then copies of one alert across bodies (``triage/repeats.py`` ``collapse``)."""
        runs: list[tuple[str, Run]] = []
        failed: dict[int, str] = {}
        for row in rows:
            integ = self.deps.catalog.integrations.get(row.integration_id)
            if integ is None:
                await self.deps.refresh_catalog(force=True)  # created since our last look?
                integ = self.deps.catalog.integrations.get(row.integration_id)
            if integ is None:
                failed[row.id] = f"integration {row.integration_id!r} no longer exists"
                continue
            if not runs or runs[-1][0] != row.integration_id:
                service_id = self.deps.catalog.integration_service[row.integration_id]
                runs.append((row.integration_id, Run(self.deps.catalog, service_id, _parser(integ.settings))))
            try:
                runs[-1][1].add(row, gather=self.collapse)
            except PayloadError as exc:  # the edge accepted it: only changed settings get here
                failed[row.id] = f"cannot parse any more: {exc.message}"
        for row_id, error in failed.items():
            log.error("inbox row %d kept unprocessed: %s", row_id, error)
        out = []
        for integration_id, run in runs:
            events, repeats = run.events()
            if self.collapse:
                service_id = self.deps.catalog.integration_service[integration_id]
                events, repeats = collapse(self.deps.catalog, service_id, events, repeats)
            out.append(_Run(integration_id, events, repeats))
        return out, failed

    async def _park_first(self, error: str, fresh_first: bool) -> None:
        async with self.deps.db.begin() as conn:
            rows = await _claim(conn, self.deps.db.dialect, 1, fresh_first)
            if rows:
                log.error("inbox row %d kept unprocessed: %s", rows[0].id, error)
                await conn.execute(sa.update(ib).where(ib.c.id == rows[0].id).values(error=error))


async def _claim(
    conn: Any, dialect: str, limit: int, fresh_first: bool = False, gather: bool = True
) -> list[_Claimed]:
    """Up to ``limit`` rows and about ``BATCH_ALERTS`` distinct alerts: the fresh ones alone when
    ``fresh_first`` and there are any (a new alert's page must not wait behind a flood of repeats:
    ``ingest/novelty.py``), else the oldest."""
    if dialect == "postgresql":
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_KEY})
    rows: list[_Claimed] = []
    if fresh_first:
        # The cheapest first: a flood's own first deliveries are fresh too (each of their alerts
        # new), and a one-alert delivery must not queue behind them. Safe: only rows whose outcome
        # does not depend on the order they are applied in are ever fresh (``ingest/novelty.py``),
        # and the oldest turns still take any fresh row in arrival order, so none starves.
        rows = await _oldest(conn, dialect, limit, ib.c.fresh.is_(True), cheapest=True)
    if not rows:
        rows = await _oldest(conn, dialect, limit, None)
        if gather:
            rows += await _copies(conn, dialect, rows, limit - len(rows))
    return sorted(rows, key=lambda r: r.id)


async def _copies(conn: Any, dialect: str, taken: list[_Claimed], room: int) -> list[_Claimed]:
    """Later rows holding the same body as a row taken, wherever they wait: a flood's re-sends,
    applied together as repeats (``ingest/collapse.py``) for little more than one of them. Only
    rows with a ``digest`` (sources whose events carry their own times, for which the order rows
    are applied in does not change the outcome: ``ingest/novelty.py``); each body compared, not
    only its digest."""
    wanted = {(r.integration_id, r.digest): r for r in taken if r.digest is not None}
    if not wanted or room <= 0:
        return []
    have = {r.id for r in taken}
    out: list[_Claimed] = []
    per_body = max(1, room // len(wanted))
    for (integration_id, digest), first in wanted.items():
        q = (
            sa.select(
                ib.c.id,
                ib.c.integration_id,
                ib.c.parser,
                ib.c.received_at,
                ib.c.alerts,
                ib.c.fresh,
                ib.c.body,
            )
            .where(ib.c.integration_id == integration_id, ib.c.digest == digest, ib.c.error.is_(None))
            .order_by(ib.c.id)
            .limit(per_body + len(have))
        )
        if dialect == "postgresql":
            q = q.with_for_update(skip_locked=True)
        for r in await conn.execute(q):
            if r.id in have or r.body != first.body:
                continue
            have.add(r.id)
            out.append(
                _Claimed(
                    r.id, r.integration_id, r.parser, r.received_at, r.alerts, r.body, bool(r.fresh), digest
                )
            )
            if len(out) >= room:
                return out
    return out


async def _oldest(conn: Any, dialect: str, limit: int, where: Any, cheapest: bool = False) -> list[_Claimed]:
    """The oldest rows (``cheapest``: the fewest alerts, then the oldest) while their work fits
    ``BATCH_ALERTS``: a row whose body an earlier row of the batch has too costs nothing, its
    alerts are applied as repeats (``ingest/collapse.py``). Bodies are read ``BODY_CHUNK`` rows at
    a time, so few are read and left (at 100 alerts a row, reading ``limit`` bodies to keep 5 of
    them was the drain's costliest statement)."""
    q = sa.select(
        ib.c.id, ib.c.integration_id, ib.c.parser, ib.c.received_at, ib.c.alerts, ib.c.fresh, ib.c.digest
    ).where(ib.c.error.is_(None))
    if where is not None:
        q = q.where(where)
    q = q.order_by(*((ib.c.alerts, ib.c.id) if cheapest else (ib.c.id,))).limit(limit)
    if dialect == "postgresql":
        q = q.with_for_update(skip_locked=True)
    found = (await conn.execute(q)).all()
    taken: list[_Claimed] = []
    seen: set[tuple[str, bytes]] = set()
    work = 0
    for start in range(0, len(found), BODY_CHUNK):
        chunk = found[start : start + BODY_CHUNK]
        ids = [r.id for r in chunk]
        bodies = dict((await conn.execute(sa.select(ib.c.id, ib.c.body).where(ib.c.id.in_(ids)))).all())
        for r in chunk:
            body = bodies[r.id]
            same = (r.integration_id, body)
            cost = 0 if same in seen else r.alerts
            if taken and work + cost > BATCH_ALERTS:
                return taken
            seen.add(same)
            work += cost
            taken.append(
                _Claimed(
                    r.id, r.integration_id, r.parser, r.received_at, r.alerts, body, bool(r.fresh), r.digest
                )
            )
    return taken


def _parser(settings: Any) -> Callable[[_Claimed], list[AlertEvent]]:
    def parse(row: _Claimed) -> list[AlertEvent]:
        inbound = InboundRequest(
            body=row.body,
            json=parse_json(row.body),
            headers={},
            query={},
            received_at=datetime.fromtimestamp(row.received_at, UTC),
        )
        return get_source(row.parser).parse(inbound, settings)

    return parse


class _Run(NamedTuple):
    integration_id: str
    events: list[AlertEvent]
    repeats: dict[int, Repeats]


class _Claimed(NamedTuple):
    id: int
    integration_id: str
    parser: str
    received_at: float
    alerts: int
    body: bytes
    fresh: bool
    digest: int | None
