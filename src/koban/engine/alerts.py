"""Alert events -> incidents, inside one transaction per ingest batch.

At most one open incident per (service, incident key): repeats update it, a resolve closes it, an
acknowledge from the source acknowledges it. Grouped alerts (Alertmanager groups) keep their members
on the incident; the incident resolves when every member has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from koban.db import schema as t
from koban.domain.alerts import AlertAction, AlertEvent, Severity
from koban.domain.escalation import Acknowledge, Resolve, Retrigger, Start, Status
from koban.domain.freeze import freeze
from koban.domain.routes import choose_route
from koban.engine.catalog import Catalog
from koban.engine.incidents import handle
from koban.engine.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    incident_id: int | None
    status: str | None
    created: bool = False
    ignored: str | None = None


def open_key(service_id: str, incident_key: str) -> str:
    return f"{service_id}\x1f{incident_key}"


def _event_json(ev: AlertEvent) -> dict[str, Any]:
    return {
        "dedup_key": ev.dedup_key,
        "action": ev.action.value,
        "severity": ev.severity.value,
        "summary": ev.summary,
        "source": ev.source,
        "details": dict(ev.details),
        "labels": dict(ev.labels),
        "links": [dict(x) for x in ev.links],
        "group_key": ev.group_key,
        "occurred_at": ev.occurred_at.timestamp() if ev.occurred_at else None,
        "ends_at": ev.ends_at.timestamp() if ev.ends_at else None,
    }


async def process_alerts(
    uow: UnitOfWork, catalog: Catalog, integration_id: str, events: list[AlertEvent], now: float
) -> list[AlertOutcome]:
    service_id = catalog.integration_service[integration_id]
    service = catalog.services[service_id]
    keys = list({open_key(service_id, e.incident_key) for e in events})
    open_rows: dict[str, dict[str, Any]] = {}
    q = sa.select(t.incidents).where(t.incidents.c.open_key.in_(keys))
    if uow.dialect == "postgresql":
        q = q.with_for_update()
    for r in (await uow.conn.execute(q)).mappings():
        open_rows[r["open_key"]] = dict(r)
    out: list[AlertOutcome] = []
    for ev in events:
        ok = open_key(service_id, ev.incident_key)
        row = open_rows.get(ok)
        if ev.action is AlertAction.TRIGGER and row is None:
            result, open_rows[ok] = await _open(uow, catalog, service, integration_id, ev, now)
        else:
            result = await _existing(uow, catalog, service, ev, row, now)
            if row is not None and row["status"] == Status.RESOLVED.value:
                open_rows.pop(ok, None)
        out.append(result)
        uow.alerts.append(
            {
                "incident_id": result.incident_id,
                "integration_id": integration_id,
                "service_id": service_id,
                "dedup_key": ev.dedup_key,
                "action": ev.action.value,
                "severity": ev.severity.value,
                "summary": ev.summary[:2000],
                "event": _event_json(ev),
                "received_at": now,
                "muted_reason": result.ignored,
            }
        )
    return out


async def _existing(
    uow: UnitOfWork, catalog: Catalog, service: Any, ev: AlertEvent, row: dict[str, Any] | None, now: float
) -> AlertOutcome:
    if ev.action is AlertAction.TRIGGER and row is not None:
        return await _repeat(uow, catalog, service, ev, row, now)
    if row is None:
        return AlertOutcome(None, None, ignored=f"no open incident for {ev.dedup_key!r}")
    if ev.action is AlertAction.ACKNOWLEDGE:
        d = await handle(uow, catalog, row, Acknowledge(actor=None, via=ev.source or "source"), now)
        return AlertOutcome(row["id"], row["status"], ignored=d.refused)
    # Resolve: a grouped incident closes only when its last firing member resolves.
    members = dict(row.get("members") or {})
    if ev.group_key and ev.dedup_key in members:
        members[ev.dedup_key] = "resolved"
        await _set_members(uow, row, members)
        if any(v == "firing" for v in members.values()):
            uow.note(
                row["id"], now, "alert.resolved", via=ev.source or None, data={"dedup_key": ev.dedup_key}
            )
            return AlertOutcome(row["id"], row["status"])
    d = await handle(uow, catalog, row, Resolve(actor=None, via=ev.source or "source"), now)
    return AlertOutcome(row["id"], row["status"], ignored=d.refused)


async def _set_members(uow: UnitOfWork, row: dict[str, Any], members: dict[str, str]) -> None:
    row["members"] = members
    await uow.conn.execute(
        sa.update(t.incidents).where(t.incidents.c.id == row["id"]).values(members=members)
    )


async def _open(
    uow: UnitOfWork, catalog: Catalog, service: Any, integration_id: str, ev: AlertEvent, now: float
) -> tuple[AlertOutcome, dict[str, Any]]:
    route = choose_route(service, ev)
    policy = catalog.policies.get(route.policy) if route.policy and not route.suppressed else None
    plan = freeze(policy, catalog.rotations, catalog.people, now) if policy else None
    values = {
        "service_id": service.id,
        "incident_key": ev.incident_key,
        "open_key": open_key(service.id, ev.incident_key),
        "status": "triggered",
        "severity": ev.severity.value,
        "summary": ev.summary or ev.dedup_key,
        "source": ev.source,
        "details": dict(ev.details),
        "labels": dict(ev.labels),
        "links": [dict(x) for x in ev.links],
        "alert_count": 1,
        "members": {ev.dedup_key: "firing"} if ev.group_key else {},
        "created_at": now,
        "updated_at": now,
        "policy_id": policy.id if policy else None,
        "plan": plan.to_json() if plan else None,
        "esc_step": -1,
        "esc_loop": 0,
        "esc_version": 0,
        "esc_exhausted": False,
    }
    new_id = (
        await uow.conn.execute(sa.insert(t.incidents).values(**values).returning(t.incidents.c.id))
    ).scalar_one()
    row = {"id": new_id, **values, "esc_started_at": None, "esc_step_started_at": None}
    uow.note(
        new_id,
        now,
        "alert.received",
        via=ev.source or None,
        data={"integration": integration_id, "dedup_key": ev.dedup_key, "severity": ev.severity.value},
    )
    uow.note(
        new_id,
        now,
        "incident.triggered",
        data={"policy": values["policy_id"], "route": route.route_index, "suppressed": route.suppressed},
    )
    await handle(uow, catalog, row, Start(), now)
    return AlertOutcome(new_id, row["status"], created=True), row


async def _repeat(
    uow: UnitOfWork, catalog: Catalog, service: Any, ev: AlertEvent, row: dict[str, Any], now: float
) -> AlertOutcome:
    changes: dict[str, Any] = {"alert_count": row["alert_count"] + 1, "updated_at": now}
    if Severity(row["severity"]).rank < ev.severity.rank:
        changes["severity"] = ev.severity.value
        uow.note(row["id"], now, "severity.raised", data={"from": row["severity"], "to": ev.severity.value})
    if ev.group_key:
        members = dict(row.get("members") or {})
        if members.get(ev.dedup_key) != "firing":
            members[ev.dedup_key] = "firing"
            changes["members"] = members
            uow.note(row["id"], now, "alert.added", via=ev.source or None, data={"dedup_key": ev.dedup_key})
    await uow.conn.execute(sa.update(t.incidents).where(t.incidents.c.id == row["id"]).values(**changes))
    row.update(changes)
    if row["status"] == Status.ACKNOWLEDGED.value and service.retrigger_acknowledged:
        await handle(uow, catalog, row, Retrigger(), now)
    return AlertOutcome(row["id"], row["status"])
