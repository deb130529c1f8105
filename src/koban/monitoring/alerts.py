"""Judging stored results and raising or resolving alerts through the ingest path.

After each stored batch, the monitors it touched are judged (``rules.evaluate``) on the latest final
result of *every* location, read from ``probe_latest``, so probers in several places compare through
the database (N of M). A transition is claimed by a conditional UPDATE on ``monitor_state.version``
in the same transaction that feeds the event to ``triage.alerts.process_alerts`` (the code path of
ingested alerts: routes, dedup on ``monitor:<id>``, frozen plan, pages). Whoever loses the claim (another
location judged first) drops its event. A new incident gets a ``probe.failed`` timeline entry stamped
with the first failed probe's time, placed first on the timeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.catalog.deps import NOTHING_HANDED
from koban.db import schema as t_core
from koban.db.schema_probes import monitor_state, probe_latest
from koban.db.uow import UnitOfWork
from koban.domain.alerts import AlertAction, AlertEvent, Severity
from koban.monitoring.store import dt, snapshot_of
from koban.paging.incidents import StaleIncident
from koban.probes.rules import MonitorState, Rule, Snapshot, evaluate
from koban.triage.alerts import process_alerts

if TYPE_CHECKING:
    from koban.catalog.deps import StoreDeps
log = logging.getLogger("koban.probes")
CHUNK = 500


def integration_id(monitor_id: str) -> str:
    """What the alert rows name as their integration (the column holds 128 characters)."""
    return f"monitor:{monitor_id}"[:128]


class MonitorFacts(Protocol):
    """What judging reads of a monitor: a ``Monitor`` or the catalog's compact ``MonitorBrief``."""

    @property
    def service(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def locations(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class Transition:
    monitor_id: str
    version: int | None  # None: no state row yet
    new: MonitorState
    events: list[AlertEvent]


async def judge(
    deps: StoreDeps,
    monitors: Mapping[str, MonitorFacts],
    rules: Mapping[str, Rule],
    ids: set[str],
    now: datetime,
    local: tuple[str, Mapping[str, Snapshot]] | None = None,
    known: MutableMapping[str, MonitorState] | None = None,
) -> list[Transition]:
    """Evaluate the given monitors on every location's latest result; apply the transitions.

    ``local``: (this prober's location, its latest snapshots), which it alone writes: monitors
    probed only from there are judged from memory instead of reading their ``probe_latest`` rows.
    ``known``: filled with each judged monitor's status as judged (without ``latest``), which the
    prober uses to tell at once which next result changes it (``rules.announces``).
    """
    ids = {i for i in ids if i in monitors and i in rules}
    if not ids:
        return []
    latest: dict[str, dict] = {}
    remote = sorted(ids)
    if local is not None:
        here, snapshots = local
        remote = []
        for ident in sorted(ids):
            snap = snapshots.get(ident)
            if snap is not None and tuple(monitors[ident].locations) == (here,):
                latest[ident] = {here: snap}
            else:
                remote.append(ident)
    states: dict[str, sa.Row] = {}
    async with deps.db.read() as conn:
        for chunk in _chunks(remote):
            for r in await conn.execute(sa.select(probe_latest).where(probe_latest.c.monitor_id.in_(chunk))):
                latest.setdefault(r.monitor_id, {})[r.location] = snapshot_of(r)
        for chunk in _chunks(sorted(ids)):
            q = sa.select(monitor_state).where(monitor_state.c.monitor_id.in_(chunk))
            states.update({r.monitor_id: r for r in await conn.execute(q)})
    transitions = []
    for ident in sorted(ids):
        wanted = set(monitors[ident].locations)
        row = states.get(ident)
        state = MonitorState(
            status=row.status if row else "unknown",
            reason=row.reason if row else "",
            since=dt(row.since) if row else None,
            latest={loc: s for loc, s in latest.get(ident, {}).items() if loc in wanted},
        )
        new, events = evaluate(state, rules[ident], now)
        if known is not None:
            known[ident] = replace(new, latest={})
        if (new.status, new.reason) != (state.status, state.reason):
            transitions.append(Transition(ident, row.version if row else None, new, events))
    if transitions:
        await _apply(deps, monitors, transitions)
    return transitions


async def known_states(deps: StoreDeps, ids: set[str]) -> dict[str, MonitorState]:
    """The stored status of these monitors (what ``judge`` fills ``known`` with afterwards)."""
    found: dict[str, MonitorState] = {}
    async with deps.db.read() as conn:
        for chunk in _chunks(sorted(ids)):
            q = sa.select(monitor_state).where(monitor_state.c.monitor_id.in_(chunk))
            for r in await conn.execute(q):
                found[r.monitor_id] = MonitorState(status=r.status, reason=r.reason, since=dt(r.since))
    return found


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


async def _apply(
    deps: StoreDeps, monitors: Mapping[str, MonitorFacts], transitions: list[Transition]
) -> None:
    for attempt in range(5):
        try:
            now = deps.clock.now()
            catalog = deps.catalog
            owners = {integration_id(t.monitor_id): monitors[t.monitor_id].service for t in transitions}
            catalog = replace(catalog, integration_service={**catalog.integration_service, **owners})
            async with deps.db.begin() as conn:
                uow = UnitOfWork(conn, deps.db.dialect)
                first = [t for t in transitions if t.version is None and not t.events]
                await _claim_first_silently(conn, deps.db.dialect, first, now)
                for t in transitions:
                    if t.version is None and not t.events:
                        continue  # claimed above, in bulk
                    if t.monitor_id not in monitors or monitors[t.monitor_id].service not in catalog.services:
                        continue
                    if not await _claim(conn, deps.db.dialect, t, now):
                        continue  # another prober announced this transition first
                    if t.events:
                        outcomes = await process_alerts(
                            uow, catalog, integration_id(t.monitor_id), t.events, now
                        )
                        _note_first_failure(uow, t, outcomes[0].incident_id, outcomes[0].created, now)
                        await conn.execute(
                            sa.update(monitor_state)
                            .where(monitor_state.c.monitor_id == t.monitor_id)
                            .values(incident_id=outcomes[0].incident_id)
                        )
                await uow.flush()
                # The pages just made due, claimed here for this process's sender (when it runs
                # one): the first page leaves at commit, not after a wake-up and a claim of its own.
                handed = await deps.hand_off(conn, uow.delivery_keys) if uow.wake else NOTHING_HANDED
            handed.start()
            if uow.wake and not handed.complete:
                deps.wake()
            return
        except (StaleIncident, IntegrityError):
            if attempt == 4:
                raise
            await asyncio.sleep(0.01 * (attempt + 1))


async def _claim_first_silently(
    conn: AsyncConnection, dialect: str, ts: list[Transition], now: float
) -> None:
    """First results that announce nothing (unknown -> up), in one executemany: a start with many
    monitors would otherwise cost one round trip each and stall the prober's store for seconds.
    Losing the race to another prober is harmless here: there is no event to raise."""
    if not ts:
        return
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(monitor_state)
    rows = [
        {
            "monitor_id": t.monitor_id,
            "status": t.new.status,
            "reason": t.new.reason,
            "since": t.new.since.timestamp() if t.new.since else now,
            "updated_at": now,
            "version": 1,
        }
        for t in ts
    ]
    await conn.execute(ins.on_conflict_do_nothing(), rows)


async def _claim(conn: AsyncConnection, dialect: str, t: Transition, now: float) -> bool:
    values = {
        "status": t.new.status,
        "reason": t.new.reason,
        "since": t.new.since.timestamp() if t.new.since else now,
        "updated_at": now,
    }
    stmt: sa.Executable
    if t.version is None:
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(monitor_state)
        stmt = ins.values(monitor_id=t.monitor_id, version=1, **values).on_conflict_do_nothing()
    else:
        c = monitor_state.c
        stmt = (
            sa.update(monitor_state)
            .where(c.monitor_id == t.monitor_id, c.version == t.version)
            .values(version=c.version + 1, **values)
        )
    return (await conn.execute(stmt)).rowcount == 1


def _note_first_failure(
    uow: UnitOfWork, t: Transition, incident_id: int | None, created: bool, now: float
) -> None:
    ev = t.events[0]
    if not created or incident_id is None or ev.action is not AlertAction.TRIGGER:
        return
    first = ev.occurred_at or datetime.fromtimestamp(now, UTC)
    # First on the timeline: the outage began before koban decided to page.
    uow.timeline.insert(
        0,
        {
            "incident_id": incident_id,
            "at": first.timestamp(),
            "kind": "probe.failed",
            "actor": None,
            "via": "koban.probes",
            "data": {
                "monitor": t.monitor_id,
                "reason": ev.details.get("reason"),
                "locations": ev.details.get("locations"),
                "first_failed_at": ev.details.get("first_failed_at"),
            },
        },
    )


async def retire_gone(deps: StoreDeps, monitors: Mapping[str, MonitorFacts]) -> list[str]:
    """Resolve what monitors that no longer run (deleted, or disabled) left down, and forget their state.

    Nothing would ever judge such a monitor again, so its incident stayed open for good. Every
    prober calls this when the catalog changes; the conditional DELETE on ``version`` lets exactly
    one of them (any location or shard) announce each monitor's retirement.
    """
    c, inc = monitor_state.c, t_core.incidents.c
    q = (
        sa.select(c.monitor_id, c.reason, c.version, c.incident_id, inc.service_id)
        .select_from(monitor_state.outerjoin(t_core.incidents, inc.id == c.incident_id))
        .where(c.status == "down")
    )
    async with deps.db.read() as conn:
        rows = [r for r in await conn.execute(q) if not _runs(monitors.get(r.monitor_id))]
    retired: list[str] = []
    for r in rows:
        if await _retire(deps, r, "deleted" if r.monitor_id not in monitors else "disabled"):
            retired.append(r.monitor_id)
    return retired


def _runs(monitor: MonitorFacts | None) -> bool:
    return monitor is not None and monitor.enabled


async def _retire(deps: StoreDeps, row: sa.Row, why: str) -> bool:
    for attempt in range(5):
        try:
            now = deps.clock.now()
            async with deps.db.begin() as conn:
                c = monitor_state.c
                gone = await conn.execute(
                    sa.delete(monitor_state).where(c.monitor_id == row.monitor_id, c.version == row.version)
                )
                if gone.rowcount != 1:
                    return False  # another prober retired it, or a result moved it meanwhile
                if row.service_id is None or row.service_id not in deps.catalog.services:
                    return True  # no incident to resolve (or its service is gone too)
                ident = integration_id(row.monitor_id)
                catalog = replace(
                    deps.catalog,
                    integration_service={**deps.catalog.integration_service, ident: row.service_id},
                )
                uow = UnitOfWork(conn, deps.db.dialect)
                event = AlertEvent(
                    dedup_key=f"monitor:{row.monitor_id}",
                    action=AlertAction.RESOLVE,
                    severity=Severity.CRITICAL,
                    summary=f"monitor {row.monitor_id} was {why} while down",
                    source="koban.probes",
                    details={"monitor_id": row.monitor_id, "was": row.reason, "retired": why},
                    labels={"service": row.service_id, "monitor": row.monitor_id},
                    occurred_at=datetime.fromtimestamp(now, UTC),
                )
                await process_alerts(uow, catalog, ident, [event], now)
                await uow.flush()
            if uow.wake:
                deps.wake()
            return True
        except (StaleIncident, IntegrityError):
            if attempt == 4:
                raise
            await asyncio.sleep(0.01 * (attempt + 1))
    return False
