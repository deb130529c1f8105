"""Aggregation groups for services that group single alerts: the I/O around ``routing/grouping.step``.

An arriving alert joins its group's row (locked for the transaction); ``step`` says when the group
flushes. A flush due now is carried out in the same transaction; a later one is the row's
``due_at``, claimed with a lease by any instance's worker (``run_due``), so groups survive restarts
and are shared by instances. A flush becomes member events of one incident keyed by the groupKey
(``triage/alerts.py``), so the incident opens at the first flush (after ``group_wait``), gains
members on later ticks and resolves when every member has.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from koban.catalog.snapshot import Catalog
from koban.config.model import Service
from koban.config.model_routing import Grouping
from koban.db import schema_routing as r
from koban.db.leased_rows import run_due_rows
from koban.db.uow import UnitOfWork
from koban.domain.alerts import AlertAction, AlertEvent
from koban.domain.routes import choose_route
from koban.routing.alertstore import GroupAlert, alert_from_event
from koban.routing.grouping import Flush, GroupState, new_group, step
from koban.routing.routes import GROUP_BY_ALL, RouteNode
from koban.triage.group_codec import state_from_json, state_to_json, ts
from koban.triage.muting import Muter, matcher_labels
from koban.triage.outcome import AlertOutcome, ProcessAlerts

if TYPE_CHECKING:
    from koban.catalog.deps import StoreDeps

_g = r.alert_groups.c


def grouping_for(service: Service, ev: AlertEvent) -> tuple[Grouping, str] | None:
    """The grouping that applies to ``ev`` and the route key it is scoped to (or None)."""
    choice = choose_route(service, ev)
    route = service.routes[choice.route_index] if choice.route_index is not None else None
    if route is not None and route.grouping is not None:
        return route.grouping.over(service.grouping), f"{{}}/route[{choice.route_index}]"
    return (service.grouping, "{}") if service.grouping is not None else None


def applies(service: Service, ev: AlertEvent) -> bool:
    # Sources that group already (an Alertmanager groupKey) and acknowledgements go straight through.
    return (
        ev.group_key is None
        and ev.action is not AlertAction.ACKNOWLEDGE
        and grouping_for(service, ev) is not None
    )


def node_for(grouping: Grouping, route_key: str) -> RouteNode:
    group_by = grouping.group_by or []
    return RouteNode(
        key=route_key,
        receiver="incident",
        matchers=(),
        group_by=frozenset(g for g in group_by if g != GROUP_BY_ALL),
        group_by_all=GROUP_BY_ALL in group_by,
        timers=grouping.timers(),
        continue_=False,
        children=(),
    )


def _member(ev: AlertEvent, now: datetime) -> GroupAlert:
    # Version order from the sender's own times when it gives them, so redeliveries merge the same way.
    own = [x for x in (ev.occurred_at, ev.ends_at) if x is not None and x <= now]
    return alert_from_event(ev, now, updated_at=max(own) if own else None)


async def admit(
    uow: UnitOfWork,
    catalog: Catalog,
    service: Service,
    events: list[AlertEvent],
    now: float,
    muter: Muter,
    process: ProcessAlerts,
) -> list[AlertOutcome]:
    """Alerts into their groups; a flush goes back through ``process`` (the alert -> incident step)."""
    at = datetime.fromtimestamp(now, UTC)
    out: list[AlertOutcome] = []
    for ev in events:
        muted = await muter.reason(service.id, ev, ev.dedup_key)
        if muted is not None:
            out.append(AlertOutcome(None, None, ignored=muted))
            continue
        found = grouping_for(service, ev)
        assert found is not None
        node = node_for(*found)
        # Matchers and group_by see severity/service too; alerts without labels group by summary.
        labels = {"alertname": ev.summary, **matcher_labels(ev.labels, ev.severity.value, service.id)}
        fresh = new_group(node, labels)
        row = await _lock(uow, service.id, fresh.key)
        state = state_from_json(row["state"]) if row else fresh
        state = replace(state, timers=node.timers)  # config edits apply to running groups
        state, flushes, due = step(state, _member(ev, at), at)
        await _save(uow, service.id, row, state, due, now)
        for flush in flushes:
            await carry_out(uow, catalog, service.id, flush, now, process)
        out.append(AlertOutcome(None, "grouped"))
    return out


async def _lock(uow: UnitOfWork, service_id: str, key: str) -> dict[str, Any] | None:
    q = sa.select(r.alert_groups).where(_g.service_id == service_id, _g.group_key == key)
    if uow.dialect == "postgresql":
        q = q.with_for_update()
    row = (await uow.conn.execute(q)).mappings().first()
    return dict(row) if row else None


async def _save(
    uow: UnitOfWork,
    service_id: str,
    row: dict[str, Any] | None,
    state: GroupState,
    due: datetime | None,
    now: float,
) -> None:
    values = {"state": state_to_json(state), "due_at": ts(due), "updated_at": now}
    if row is None:
        # A racing insert of the same group fails on the unique key; the ingest batch is retried.
        await uow.conn.execute(
            sa.insert(r.alert_groups).values(service_id=service_id, group_key=state.key, **values)
        )
    else:
        await uow.conn.execute(sa.update(r.alert_groups).where(_g.id == row["id"]).values(**values))


def flush_events(flush: Flush) -> list[AlertEvent]:
    """A flush as member events of the group's incident, with the members' own times."""
    out: list[AlertEvent] = []
    for alert, action in [
        *((a, AlertAction.TRIGGER) for a in flush.firing),
        *((a, AlertAction.RESOLVE) for a in flush.resolved),
    ]:
        base = alert.event or AlertEvent(dedup_key=alert.fingerprint, labels=alert.labels)
        out.append(
            replace(
                base,
                action=action,
                group_key=flush.group_key,
                occurred_at=alert.starts_at if action is AlertAction.TRIGGER else alert.ends_at,
                ends_at=alert.ends_at if action is AlertAction.RESOLVE else None,
                details={**base.details, "group_labels": dict(flush.group_labels)},
            )
        )
    return out


async def carry_out(
    uow: UnitOfWork, catalog: Catalog, service_id: str, flush: Flush, now: float, process: ProcessAlerts
) -> None:
    events = flush_events(flush)
    if not events:
        return
    outcomes = await process(uow, catalog, service_id, events, now, record=False)
    for incident_id in {o.incident_id for o in outcomes if o.incident_id is not None}:
        data = {"reason": flush.reason.value, "group_key": flush.group_key, "firing": len(flush.firing)}
        uow.note(incident_id, now, "group.flushed", data=data)


async def run_due(deps: StoreDeps, process: ProcessAlerts, limit: int = 100) -> int:
    """Claim due groups, tick them, carry out their flushes: one transaction per group."""

    async def tick(deps: StoreDeps, row: dict[str, Any]) -> None:
        await _tick(deps, row["id"], process)

    return await run_due_rows(deps, r.alert_groups, tick, what="group tick", limit=limit)


async def _tick(deps: StoreDeps, group_id: int, process: ProcessAlerts) -> None:
    now = deps.clock.now()
    async with deps.db.begin() as conn:
        uow = UnitOfWork(conn, deps.db.dialect)
        q = sa.select(r.alert_groups).where(_g.id == group_id, _g.lease_owner == deps.owner)
        if uow.dialect == "postgresql":
            q = q.with_for_update()
        row = (await conn.execute(q)).mappings().first()
        if row is None or row["service_id"] not in deps.catalog.services:
            return  # lease lost (someone else ticks it) or the service is gone
        state, flushes, due = step(state_from_json(row["state"]), None, datetime.fromtimestamp(now, UTC))
        for flush in flushes:
            await carry_out(uow, deps.catalog, row["service_id"], flush, now, process)
        if state.is_disposable and state.last_notified is not None and not state.last_notified.firing:
            # Nothing firing, nothing pending, last notice "all resolved": the row can go.
            await conn.execute(sa.delete(r.alert_groups).where(_g.id == group_id))
        else:
            values = {"state": state_to_json(state), "due_at": ts(due), "updated_at": now}
            await conn.execute(
                sa.update(r.alert_groups)
                .where(_g.id == group_id)
                .values(lease_owner=None, lease_until=None, **values)
            )
        await uow.flush()
    if uow.wake:
        deps.wake()
