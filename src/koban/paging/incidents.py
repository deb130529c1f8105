"""Carry out escalation decisions on incident rows, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from koban.catalog.snapshot import Catalog
from koban.channels.registry import UPDATABLE_TYPES
from koban.db import schema as t
from koban.db.bulk import dict_rows

# StaleIncident lives with the UnitOfWork (which raises it at flush); callers import it from here.
from koban.db.uow import StaleIncident as StaleIncident
from koban.db.uow import UnitOfWork
from koban.domain.escalation import (
    Decision,
    EscState,
    Event,
    Note,
    Notify,
    NotifyUpdate,
    Status,
    decide,
)
from koban.domain.plan import Plan
from koban.paging.delivery_rules import DeliveryState
from koban.paging.on_call import calendar_shifts, resolve_pages
from koban.paging.stop import stop_paging

SETTLED_SENT = (DeliveryState.SENT, DeliveryState.AWAITING, DeliveryState.REACHED, DeliveryState.NOT_REACHED)


def esc_state(row: dict[str, Any]) -> EscState:
    return EscState(
        status=Status(row["status"]),
        step=row["esc_step"],
        loop=row["esc_loop"],
        version=row["esc_version"],
        started_at=row["esc_started_at"],
        step_started_at=row["esc_step_started_at"],
        exhausted=bool(row["esc_exhausted"]),
    )


def plan_of(row: dict[str, Any]) -> Plan | None:
    return Plan.from_json(row["plan"]) if row.get("plan") else None


async def load_incident(uow: UnitOfWork, incident_id: int) -> dict[str, Any] | None:
    q = sa.select(t.incidents).where(t.incidents.c.id == incident_id)
    if uow.dialect == "postgresql":
        q = q.with_for_update()
    row = (await uow.conn.execute(q)).mappings().first()
    return dict(row) if row else None


async def load_incidents(uow: UnitOfWork, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    q = sa.select(t.incidents).where(t.incidents.c.id.in_(ids)).order_by(t.incidents.c.id)
    if uow.dialect == "postgresql":
        q = q.with_for_update()  # in id order, so two batches cannot deadlock
    return {r["id"]: r for r in dict_rows(await uow.conn.execute(q))}


async def handle(
    uow: UnitOfWork, catalog: Catalog, row: dict[str, Any], event: Event, now: float
) -> Decision:
    """Decide and apply one event for one incident row (updated in place)."""
    decision = decide(esc_state(row), plan_of(row), event, now)
    if decision.refused is None:
        await apply(uow, catalog, row, decision, now)
    return decision


_UPDATES: dict[tuple[tuple[str, ...], bool], Any] = {}


def update_stmt(columns: tuple[str, ...], *, versioned: bool) -> Any:
    """UPDATE incidents SET <columns> by id (and esc_version when ``versioned``), built once per shape.

    ``.values(**changes)`` with literals made SQLAlchemy coerce values and compute a cache key on
    every call (~2 ms per incident); bound parameters hit the compiled cache.
    """
    key = (columns, versioned)
    stmt = _UPDATES.get(key)
    if stmt is None:
        c = t.incidents.c
        where = [c.id == sa.bindparam("_id")]
        if versioned:
            where.append(c.esc_version == sa.bindparam("_v"))
        stmt = sa.update(t.incidents).where(*where).values({k: sa.bindparam(f"v_{k}") for k in columns})
        _UPDATES[key] = stmt
    return stmt


def update_params(incident_id: int, changes: dict[str, Any], version: int | None = None) -> dict[str, Any]:
    return {"_id": incident_id, "_v": version, **{f"v_{k}": v for k, v in changes.items()}}


def state_columns(s: EscState) -> dict[str, Any]:
    return {
        "status": s.status.value,
        "esc_step": s.step,
        "esc_loop": s.loop,
        "esc_version": s.version,
        "esc_started_at": s.started_at,
        "esc_step_started_at": s.step_started_at,
        "esc_exhausted": s.exhausted,
    }


async def apply(uow: UnitOfWork, catalog: Catalog, row: dict[str, Any], d: Decision, now: float) -> None:
    """Write ``d`` for ``row``; a row already holding ``d.state`` (a new incident) gets no UPDATE."""
    old, new = esc_state(row), d.state
    changes: dict[str, Any] = {**state_columns(new), "updated_at": now}
    for a in d.actions:
        if isinstance(a, Note) and a.kind in ("acknowledged", "resolved"):
            prefix = "acknowledged" if a.kind == "acknowledged" else "resolved"
            changes.update({f"{prefix}_at": now, f"{prefix}_by": a.actor, f"{prefix}_via": a.via})
    if new.status is Status.RESOLVED:
        changes["open_key"] = None
    if new.status is Status.TRIGGERED and old.status is Status.ACKNOWLEDGED:
        changes.update(acknowledged_at=None, acknowledged_by=None, acknowledged_via=None)
    if row.get("id") is not None and old.version != new.version:
        await uow.update_incident(
            update_stmt(tuple(changes), versioned=True), update_params(row["id"], changes, old.version)
        )
    row.update(changes)
    incident_id = row["id"]
    for a in d.actions:
        if isinstance(a, Note):
            uow.note(incident_id, now, a.kind, a.actor, a.via, dict(a.data) or None)
        elif isinstance(a, Notify) and a.target.schedule:
            shifts = await calendar_shifts(uow.conn, catalog, a.target.schedule, now)
            pages, why = resolve_pages(a, catalog, now, shifts)
            uow.note(incident_id, now, "on_call", None, None, why)
            uow.deliveries.extend(page_delivery(incident_id, a, catalog, now, p, c) for p, c in pages)
            uow.wake = uow.wake or bool(pages)
        elif isinstance(a, Notify):
            uow.deliveries.append(page_delivery(incident_id, a, catalog, now))
            uow.wake = True
        elif isinstance(a, NotifyUpdate):
            await _updates(uow, incident_id, new.version, a.status, now)
    if new.status is not Status.TRIGGERED:
        # Pages not yet sent are moot, and calls still ringing end (stop.py). One being claimed
        # right now is fenced by the sender's re-check of the status.
        await stop_paging(uow, incident_id, new.status.value, now)
    if new.version != old.version:
        uow.drop_timers_below[incident_id] = new.version
    if d.next_due is not None:
        uow.jobs.append(
            {
                "kind": "escalate",
                "ref": incident_id,
                "fence": new.version,
                "due_at": d.next_due,
                "attempts": 0,
                "created_at": now,
            }
        )


def page_delivery(
    incident_id: int,
    a: Notify,
    catalog: Catalog,
    now: float,
    person: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """The page row for ``a``; ``person`` and ``channel``: whom a schedule target resolved to."""
    if person is None:
        person, channel, target = a.target.person_for(a.loop), a.target.channel, a.target.key(a.loop)
    else:
        channel = channel or a.target.channel
        target = f"{channel}/{person}"
    ch = catalog.channels.get(channel)
    return {
        "key": f"{incident_id}:{a.step}:{target}:{a.loop}" + (f":{a.round}" if a.round else ""),
        "incident_id": incident_id,
        "kind": "page",
        "channel_id": channel,
        "channel_type": ch.type if ch else "unknown",
        "person_id": person,
        "address": "",
        "step": a.step,
        "loop": a.loop,
        "state": DeliveryState.PENDING,
        "attempts": 0,
        "meta": {},
        "created_at": now,
        "due_at": now,
    }


async def _updates(uow: UnitOfWork, incident_id: int, version: int, status: Status, now: float) -> None:
    """One update per channel message already out (Slack edits in place, PagerDuty acks/resolves)."""
    d = t.deliveries.c
    rows = await uow.conn.execute(
        sa.select(d.channel_id, d.channel_type, d.person_id, d.meta, d.provider_ref).where(
            d.incident_id == incident_id,
            d.kind == "page",
            d.state.in_(SETTLED_SENT),
            d.channel_type.in_(UPDATABLE_TYPES),
        )
    )
    seen: set[tuple[str, str | None]] = set()
    for r in rows:
        if (r.channel_id, r.person_id) in seen:
            continue
        seen.add((r.channel_id, r.person_id))
        who = f"/{r.person_id}" if r.person_id else ""
        uow.deliveries.append(
            {
                "key": f"{incident_id}:update:{version}:{r.channel_id}{who}",
                "incident_id": incident_id,
                "kind": "update",
                "channel_id": r.channel_id,
                "channel_type": r.channel_type,
                "person_id": r.person_id,
                "address": "",
                "step": -1,
                "loop": 0,
                "state": DeliveryState.PENDING,
                "attempts": 0,
                "meta": {"status": status.value, "previous": r.meta or {}, "provider_ref": r.provider_ref},
                "created_at": now,
                "due_at": now,
            }
        )
        uow.wake = True
