"""Tasks from calendar events (seed 004): one per (calendar, UID, RECURRENCE-ID), opened at the
event's start minus the rule's lead as an incident of kind ``task``.

The ``calendar_tasks`` row is the occurrence's one identity: a UNIQUE key makes refetches, reordered
or duplicated feeds, restarts and two instances converge on one row, and the row goes from
``pending`` to ``open`` by a conditional UPDATE in the same transaction that creates the incident,
so exactly one claimant opens it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.calendars.rules import rule_for, task_plan
from koban.catalog.deps import StoreDeps
from koban.catalog.snapshot import Catalog
from koban.config.model_calendars import Calendar
from koban.db.schema import incidents, jobs
from koban.db.schema_calendars import calendar_tasks as ct
from koban.db.uow import UnitOfWork
from koban.domain.escalation import Resolve, Start, Status
from koban.domain.escalation import decide as decide_escalation
from koban.domain.freeze import freeze
from koban.paging.incidents import apply, esc_state, handle, load_incident, state_columns
from koban.sources.calendar.parse import CalEvent

OPEN_BATCH = 50


async def sync_tasks(
    uow: UnitOfWork, catalog: Catalog, cal: Calendar, events: list[CalEvent], now: float
) -> None:
    """Make the calendar's task rows follow its events: new ones pending, moved ones moved, those
    gone or cancelled cancelled (their open task resolved, the reason on its timeline)."""
    conn = uow.conn
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    graces: dict[tuple[str, str], float] = {}
    for ev in events:
        rule = rule_for(cal, ev)
        if rule is None or (ev.uid, ev.recurrence_id) in wanted:  # a duplicated event: the first
            continue
        graces[(ev.uid, ev.recurrence_id)] = rule.grace
        wanted[(ev.uid, ev.recurrence_id)] = {
            "rule_id": rule.id,
            "summary": ev.summary,
            "start": ev.start,
            "end": ev.end,
            "due": ev.start - rule.lead,
        }
    rows = {
        (r.uid, r.recurrence_id): r
        for r in await conn.execute(sa.select(ct).where(ct.c.calendar_id == cal.id, ct.c.end > now))
    }
    fresh = [
        {
            "calendar_id": cal.id,
            "uid": k[0],
            "recurrence_id": k[1],
            "status": "pending",
            "updated_at": now,
            **v,
        }
        for k, v in wanted.items()
        if k not in rows and v["end"] > now
    ]
    if fresh:
        ins = (postgresql.insert if uow.dialect == "postgresql" else sqlite.insert)(ct)
        await conn.execute(ins.on_conflict_do_nothing(), fresh)
    changed: list[dict[str, Any]] = []  # one executemany: a feed whose events all moved is one round trip
    for key, row in rows.items():
        want = wanted.get(key)
        if want is None:
            if row.status != "cancelled":
                await _cancel(uow, catalog, row, now)
        elif row.status == "cancelled" and row.incident_id is None:
            changed.append({**want, "_id": row.id, "status": "pending", "updated_at": now})
        elif (row.start, row.end, row.summary) != (want["start"], want["end"], want["summary"]):
            changed.append({**want, "_id": row.id, "status": row.status, "updated_at": now})
            if row.incident_id is not None:
                data = {"from": _iso(row.start), "to": _iso(want["start"]), "summary": want["summary"]}
                uow.note(row.incident_id, now, "task.moved", None, "calendar", data)
                if want["start"] != row.start:
                    await _rearm_reminder(uow, row.incident_id, want["start"] + graces[key], now)
    if changed:
        cols = ("rule_id", "summary", "start", "end", "due", "status", "updated_at")
        stmt = sa.update(ct).where(ct.c.id == sa.bindparam("_id")).values({c: sa.bindparam(c) for c in cols})
        await conn.execute(stmt, changed)


async def _rearm_reminder(uow: UnitOfWork, incident_id: int, remind_at: float, now: float) -> None:
    """A task nobody has started yet whose event moved: its reminder, the first step's timer
    (``rules.task_plan``), follows the new start + grace, on the pending timer and in the plan."""
    inc = await load_incident(uow, incident_id)
    if inc is None or inc["status"] != Status.TRIGGERED.value or inc["esc_step"] != 0 or not inc["plan"]:
        return  # started (acknowledged), already reminded, or no policy: nothing waits on the start
    opened = inc["esc_step_started_at"] or inc["created_at"]
    plan = dict(inc["plan"])
    plan["steps"] = [{**plan["steps"][0], "timeout": max(remind_at - opened, 1.0)}, *plan["steps"][1:]]
    await uow.conn.execute(sa.update(incidents).where(incidents.c.id == incident_id).values(plan=plan))
    await uow.conn.execute(
        sa.update(jobs)
        .where(jobs.c.kind == "escalate", jobs.c.ref == incident_id, jobs.c.fence == inc["esc_version"])
        .values(due_at=max(remind_at, now))
    )


async def _cancel(uow: UnitOfWork, catalog: Catalog, row: Any, now: float) -> None:
    await _set(uow.conn, row.id, {"status": "cancelled", "updated_at": now})
    if row.incident_id is None:
        return
    inc = await load_incident(uow, row.incident_id)
    if inc is not None and inc["status"] != Status.RESOLVED.value:
        uow.note(row.incident_id, now, "task.cancelled", None, "calendar", {"uid": row.uid})
        await handle(uow, catalog, inc, Resolve(actor=None, via="calendar"), now)


async def _set(conn: AsyncConnection, ident: int, values: dict[str, Any]) -> None:
    await conn.execute(sa.update(ct).where(ct.c.id == ident).values(**values))


async def open_due(deps: StoreDeps, now: float) -> list[int]:
    """Open the tasks whose time has come; the ids of the incidents made."""
    catalog = deps.catalog
    made: list[int] = []
    async with deps.db.read() as conn:  # the common case, nothing due, takes no write lock
        if (
            await conn.execute(sa.select(ct.c.id).where(ct.c.status == "pending", ct.c.due <= now).limit(1))
        ).first() is None:
            return made
    async with deps.db.begin() as conn:
        uow = UnitOfWork(conn, deps.db.dialect)
        due = (
            await conn.execute(
                sa.select(ct)
                .where(ct.c.status == "pending", ct.c.due <= now)
                .order_by(ct.c.due)
                .limit(OPEN_BATCH)
            )
        ).all()
        for row in due:
            claimed = await conn.execute(
                sa.update(ct)
                .where(ct.c.id == row.id, ct.c.status == "pending")
                .values(status="open", updated_at=now)
            )
            if claimed.rowcount != 1:
                continue  # another instance opened it
            incident_id = await _open(uow, catalog, row, now)
            if incident_id is not None:
                made.append(incident_id)
                await _set(conn, row.id, {"incident_id": incident_id})
        await uow.flush()
    if made:
        deps.wake()
    return made


async def _open(uow: UnitOfWork, catalog: Catalog, row: Any, now: float) -> int | None:
    cal = catalog.calendars.get(row.calendar_id)
    rule = next((r for r in cal.tasks if r.id == row.rule_id), None) if cal else None
    if cal is None or rule is None or rule.service not in catalog.services:
        await _set(uow.conn, row.id, {"status": "cancelled"})  # its calendar or rule is gone
        return None
    policy = catalog.policies.get(rule.policy)
    plan = (
        task_plan(freeze(policy, catalog.rotations, catalog.people, now), now, row.start + rule.grace)
        if policy
        else None
    )
    key = f"task:{cal.id}:{row.uid}:{row.recurrence_id}"
    values: dict[str, Any] = {
        "service_id": rule.service,
        "incident_key": key,
        "open_key": f"{rule.service}\x1f{key}",
        "status": Status.TRIGGERED.value,
        "severity": rule.severity,
        "summary": row.summary or "(untitled event)",
        "source": "calendar",
        "details": {
            "kind": "task",
            "calendar": cal.id,
            "rule": rule.id,
            "uid": row.uid,
            "recurrence_id": row.recurrence_id,
            "event_start": _iso(row.start),
            "event_end": _iso(row.end),
        },
        "labels": {"kind": "task"},
        "links": [],
        "alert_count": 1,
        "members": {},
        "created_at": now,
        "updated_at": now,
        "policy_id": policy.id if policy else None,
        "plan": plan.to_json() if plan else None,
        "esc_step": -1,
        "esc_loop": 0,
        "esc_version": 0,
        "esc_exhausted": False,
    }
    inc = {"id": None, **values, "esc_started_at": None, "esc_step_started_at": None}
    started = decide_escalation(esc_state(inc), plan, Start(), now)
    inc.update(state_columns(started.state))
    new_id = inc["id"] = await uow.new_incident_id()
    uow.add_incident(inc)
    uow.note(
        new_id, now, "task.opened", None, "calendar", {**values["details"], "policy": values["policy_id"]}
    )
    await apply(uow, catalog, inc, started, now)
    return new_id


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()
