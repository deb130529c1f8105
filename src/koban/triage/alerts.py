"""Alert events -> incidents, inside one transaction per ingest batch: the I/O around
``domain/incident_rules.decide``.

Per batch: lock the alert keys' clocks, then the open incidents they map to, then for each event
ask the pure rules what it does (open, repeat, acknowledge, resolve, or record only) and carry it
out. Muting (silences, maintenance, inhibition: ``triage/muting.py``) is decided before; alerts a
service groups (``grouping`` in its config) go to their aggregation group (``triage/grouping.py``),
whose flushes come back here as member events of one incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from koban.catalog.snapshot import Catalog
from koban.config.model import Service
from koban.db import schema as t
from koban.db.bulk import dict_rows
from koban.db.uow import UnitOfWork
from koban.domain.alerts import AlertAction, AlertEvent, Severity
from koban.domain.escalation import Acknowledge, Resolve, Retrigger, Start, Status
from koban.domain.escalation import Decision as EscDecision
from koban.domain.escalation import decide as decide_escalation
from koban.domain.freeze import freeze
from koban.domain.incident_rules import Decision, KeyClock, OpenIncident, Verdict, decide, decide_repeats
from koban.domain.plan import Plan
from koban.domain.routes import choose_route
from koban.paging.incidents import apply, esc_state, handle, state_columns, update_params, update_stmt
from koban.triage import grouping
from koban.triage.alert_rows import alert_notes, record_alert
from koban.triage.key_clocks import clock_key, lock_clocks, store_clocks
from koban.triage.muting import Muter, matcher_labels
from koban.triage.outcome import AlertOutcome
from koban.triage.repeats import Repeats


def open_key(service_id: str, incident_key: str) -> str:
    return f"{service_id}\x1f{incident_key}"


async def process_alerts(
    uow: UnitOfWork,
    catalog: Catalog,
    integration_id: str,
    events: list[AlertEvent],
    now: float,
    repeats: Mapping[int, Repeats] | None = None,
) -> list[AlertOutcome]:
    service_id = catalog.integration_service[integration_id]
    return await process_service_alerts(
        uow, catalog, service_id, events, now, integration_id=integration_id, repeats=repeats
    )


async def process_service_alerts(
    uow: UnitOfWork,
    catalog: Catalog,
    service_id: str,
    events: list[AlertEvent],
    now: float,
    *,
    integration_id: str | None = None,
    record: bool = True,
    repeats: Mapping[int, Repeats] | None = None,
) -> list[AlertOutcome]:
    """``record=False`` for events koban made itself (group flushes): their alerts are already stored.
    ``repeats``: copies of ``events[i]`` applied right after it (``triage/repeats.py``; only for
    events that go straight to their incident: ``collapsible``)."""
    service = catalog.services[service_id]
    grouped = [i for i, ev in enumerate(events) if grouping.applies(service, ev)]
    direct = sorted(set(range(len(events))) - set(grouped))
    # Each key once per event (a sha256 each): the lock below and the loop both need them.
    cks = {i: clock_key(service_id, events[i].dedup_key) for i in direct}
    keys = {cks[i] for i in direct if events[i].action is not AlertAction.ACKNOWLEDGE}
    clocks = await lock_clocks(uow, keys, now)
    open_rows = await _lock_open(
        uow,
        {open_key(service_id, events[i].incident_key) for i in direct},
        {
            open_key(service_id, events[i].incident_key)
            for i in direct
            if events[i].action is not AlertAction.TRIGGER
        },
    )
    muter = Muter(uow, catalog.routing, now)
    out: dict[int, AlertOutcome] = {}
    touched: dict[str, KeyClock] = {}
    retrigger_ack = service.retrigger_acknowledged

    async def one(ev: AlertEvent, ck: str) -> AlertOutcome:
        ok = open_key(service_id, ev.incident_key)
        muted = await muter.reason(service_id, ev, ok)
        row = open_rows.get(ok)
        d = decide(
            _view(row), clocks.get(ck, _NO_CLOCK), ev, now, muted=muted, retrigger_acknowledged=retrigger_ack
        )
        if ev.action is not AlertAction.ACKNOWLEDGE:
            clocks[ck] = touched[ck] = d.clock
        result = await _carry_out(uow, catalog, service, integration_id, ev, row, d, now)
        if d.verdict is Verdict.OPEN:
            opened = result[1]
            if opened is not None:  # always: OPEN is answered with the new incident's row
                open_rows[ok] = opened
            muter.firing_added(ok, matcher_labels(ev.labels, ev.severity.value, service_id))
        elif row is not None and row["status"] == Status.RESOLVED.value:
            open_rows.pop(ok, None)
        alert_notes(uow, row, ev, muted, result[0].ignored, now, 1)
        if record:
            record_alert(uow, integration_id, service_id, ev, result[0], now)
        return result[0]

    async def together(rest: Repeats, ck: str) -> AlertOutcome | None:
        """Copies of one alert applied at once when they are quiet (None: they are not)."""
        ev = rest.latest
        ok = open_key(service_id, ev.incident_key)
        muted = await muter.reason(service_id, ev, ok)
        row = open_rows.get(ok)
        clock = clocks.get(ck, _NO_CLOCK)
        d = decide_repeats(
            _view(row),
            clock,
            rest.earliest,
            ev,
            rest.count,
            now,
            muted=muted,
            retrigger_acknowledged=retrigger_ack,
        )
        if d is None:
            return None
        if ev.action is not AlertAction.ACKNOWLEDGE:
            clocks[ck] = touched[ck] = d.clock
        if d.verdict is Verdict.REPEAT and row is not None:
            await _repeat(uow, catalog, ev, row, d, now, rest.count)
            res = AlertOutcome(row["id"], row["status"])
        else:
            res = AlertOutcome(row["id"] if row else None, row["status"] if row else None, ignored=d.reason)
        alert_notes(uow, row, ev, muted, res.ignored, now, rest.count)
        if record:
            record_alert(uow, integration_id, service_id, ev, res, now, rest.count)
        return res

    for i in direct:
        rest = repeats.get(i) if repeats else None
        if rest is None:
            out[i] = await one(events[i], cks[i])
            continue
        # The event and its copies together when all are quiet (a repeat of an open incident, as
        # in a flood); else the event alone, then its copies together or one by one.
        res = await together(Repeats.of(events[i]).join(rest), cks[i])
        if res is None:
            res = await one(events[i], cks[i])
            if await together(rest, cks[i]) is None:
                for copy in rest.each():
                    await one(copy, cks[i])
        out[i] = res
    await store_clocks(uow, touched, now)
    if grouped:
        for i, res in zip(
            grouped,
            await grouping.admit(
                uow, catalog, service, [events[i] for i in grouped], now, muter, process_service_alerts
            ),
            strict=True,
        ):
            out[i] = res
            if record:
                record_alert(uow, integration_id, service_id, events[i], res, now)
    return [out[i] for i in range(len(events))]


# The columns a repeat reads (``_view``, ``_repeat``, the outcome): locked rows are read with only
# these, and ``_fill`` adds the rest (the frozen plan, escalation state, the first alert's details)
# before escalation (``handle``) needs the whole row. Decoding the whole row for every repeat of a
# flood was a fifth of the drain's time.
_REPEAT_COLUMNS = [
    t.incidents.c[n] for n in ("id", "open_key", "status", "severity", "members", "alert_count")
]


async def _lock_open(uow: UnitOfWork, keys: set[str], whole: set[str]) -> dict[str, dict[str, Any]]:
    """The open incidents of ``keys``, locked; those of ``whole`` (keys a resolve or an
    acknowledgement is for) read whole in a second statement, the others as ``_REPEAT_COLUMNS``."""
    if not keys:
        return {}
    if uow.incidents_pending:
        await uow.flush_incidents()  # a key opened or updated earlier in this transaction is read as is
    q = sa.select(*_REPEAT_COLUMNS).where(t.incidents.c.open_key.in_(sorted(keys)))
    if uow.dialect == "postgresql":
        q = q.order_by(t.incidents.c.open_key).with_for_update()  # all of them, in one order
    rows = {r["open_key"]: r for r in dict_rows(await uow.conn.execute(q))}
    await _fill(uow, [rows[k] for k in sorted(whole) if k in rows])
    return rows


async def _fill(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """Add the columns ``_lock_open`` left out to ``rows`` (in place; they are locked already).
    Only left-out columns are read: nothing in a batch writes them before ``handle`` (a repeat's
    count and time, members and severity are all among ``_REPEAT_COLUMNS`` or set on the row)."""
    missing = [c for c in t.incidents.c if rows and c.name not in rows[0]]
    if not missing:
        return
    c = t.incidents.c
    by_id = {r["id"]: r for r in rows}
    q = sa.select(c.id, *missing).where(c.id.in_(sorted(by_id)))
    names = [col.name for col in missing]
    for got in await uow.conn.execute(q):
        row = by_id[got[0]]
        for name, value in zip(names, got[1:], strict=True):
            row.setdefault(name, value)


async def _full(uow: UnitOfWork, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` whole, for ``handle`` (a retrigger of a repeat's row)."""
    await _fill(uow, [row])
    return row


# Immutable, so shared: a fresh KeyClock and Severity(...) per event were measurable in a flood.
_NO_CLOCK = KeyClock()
_SEVERITY = {s.value: s for s in Severity}
_RESOLVED = Status.RESOLVED.value


def _view(row: dict[str, Any] | None) -> OpenIncident | None:
    if row is None or row["status"] == _RESOLVED:
        return None
    return OpenIncident(row["status"], _SEVERITY[row["severity"]], dict(row.get("members") or {}))


async def _carry_out(
    uow: UnitOfWork,
    catalog: Catalog,
    service: Service,
    integration_id: str | None,
    ev: AlertEvent,
    row: dict[str, Any] | None,
    d: Decision,
    now: float,
) -> tuple[AlertOutcome, dict[str, Any] | None]:
    via = ev.source or "source"
    if d.verdict is Verdict.OPEN:
        return await _open(uow, catalog, service, integration_id, ev, d, now)
    if d.verdict is Verdict.IGNORE or row is None:
        return AlertOutcome(row["id"] if row else None, row["status"] if row else None, ignored=d.reason), row
    if d.members is not None:
        await _update(uow, row, {"members": dict(d.members)})
    if d.verdict is Verdict.REPEAT:
        await _repeat(uow, catalog, ev, row, d, now)
    elif d.verdict is Verdict.ACKNOWLEDGE:
        refused = (
            await handle(uow, catalog, await _full(uow, row), Acknowledge(actor=None, via=via), now)
        ).refused
        return AlertOutcome(row["id"], row["status"], ignored=refused), row
    elif d.verdict is Verdict.MEMBER_RESOLVED:
        uow.note(row["id"], now, "alert.resolved", via=ev.source or None, data={"dedup_key": ev.dedup_key})
    elif d.verdict is Verdict.RESOLVE:
        refused = (
            await handle(uow, catalog, await _full(uow, row), Resolve(actor=None, via=via), now)
        ).refused
        return AlertOutcome(row["id"], row["status"], ignored=refused), row
    return AlertOutcome(row["id"], row["status"]), row


async def _update(uow: UnitOfWork, row: dict[str, Any], changes: dict[str, Any]) -> None:
    # Joins one executemany per batch (a burst of repeats was one UPDATE round trip each).
    uow.update_incident_later(update_stmt(tuple(changes), versioned=False), update_params(row["id"], changes))
    row.update(changes)


async def _open(
    uow: UnitOfWork,
    catalog: Catalog,
    service: Service,
    integration_id: str | None,
    ev: AlertEvent,
    d: Decision,
    now: float,
) -> tuple[AlertOutcome, dict[str, Any]]:
    route = choose_route(service, ev)
    policy = catalog.policies.get(route.policy) if route.policy and not route.suppressed else None
    plan, plan_json = _frozen(uow, catalog, policy, now) if policy else (None, None)
    values: dict[str, Any] = {
        "service_id": service.id,
        "incident_key": ev.incident_key,
        "open_key": open_key(service.id, ev.incident_key),
        "status": Status.TRIGGERED.value,
        "severity": ev.severity.value,
        "summary": ev.summary or ev.dedup_key,
        "source": ev.source,
        "details": dict(ev.details),
        "labels": dict(ev.labels),
        "links": [dict(x) for x in ev.links],
        "alert_count": 1,
        "members": dict(d.members or {}),
        "created_at": now,
        "updated_at": now,
        "policy_id": policy.id if policy else None,
        "plan": plan_json,
        "esc_step": -1,
        "esc_loop": 0,
        "esc_version": 0,
        "esc_exhausted": False,
    }
    row = {"id": None, **values, "esc_started_at": None, "esc_step_started_at": None}
    # Escalation starts in the INSERT itself, and the INSERT joins the batch's one executemany
    # (uow.flush_incidents): building a statement per incident cost ~2 ms of SQLAlchemy each.
    started = _started(uow, catalog, policy, plan, row, now)
    row.update(state_columns(started.state))
    new_id = row["id"] = await uow.new_incident_id()
    uow.add_incident(row)
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
    await apply(uow, catalog, row, started, now)
    return AlertOutcome(new_id, row["status"], created=True), row


def _frozen(uow: UnitOfWork, catalog: Catalog, policy: Any, now: float) -> tuple[Plan, dict[str, Any]]:
    """Freeze once per (policy, now) per transaction: a burst of 100s of incidents shares one plan."""
    key = ("plan", id(catalog), policy.id, now)
    hit = uow.memo.get(key)
    if hit is None:
        plan = freeze(policy, catalog.rotations, catalog.people, now)
        hit = uow.memo[key] = (plan, plan.to_json())
    return hit


def _started(
    uow: UnitOfWork, catalog: Catalog, policy: Any, plan: Plan | None, row: dict[str, Any], now: float
) -> EscDecision:
    """Escalation's start for a new incident row. A new row always holds the initial state, so the
    decision is pure in (plan, now): a burst decides it once per policy and shares the (immutable)
    result; ``apply`` writes its rows per incident."""
    key = ("start", id(catalog), policy.id if policy else None, now)
    hit = uow.memo.get(key)
    if hit is None:
        hit = uow.memo[key] = decide_escalation(esc_state(row), plan, Start(), now)
    return hit


async def _repeat(
    uow: UnitOfWork,
    catalog: Catalog,
    ev: AlertEvent,
    row: dict[str, Any],
    d: Decision,
    now: float,
    count: int = 1,
) -> None:
    changes: dict[str, Any] = {"alert_count": row["alert_count"] + count, "updated_at": now}
    if d.raise_severity is not None:
        changes["severity"] = d.raise_severity.value
        uow.note(
            row["id"], now, "severity.raised", data={"from": row["severity"], "to": d.raise_severity.value}
        )
    if d.member_added:
        uow.note(row["id"], now, "alert.added", via=ev.source or None, data={"dedup_key": ev.dedup_key})
    await _update(uow, row, changes)
    if d.retrigger:
        await handle(uow, catalog, await _full(uow, row), Retrigger(), now)
