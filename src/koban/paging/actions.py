"""The IncidentActions port: every path (API, CLI, keypad, SMS, Slack, links) lands here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.auth.audit import Change, Origin, door_for, record
from koban.channels.actions import ActionResult, IncidentAction, Outcome
from koban.core.i18n import M_, Said
from koban.db import schema as t
from koban.db.uow import UnitOfWork
from koban.domain.escalation import (
    ALREADY_ACKNOWLEDGED,
    ALREADY_RESOLVED,
    Acknowledge,
    EscalateNow,
    Reassign,
    Resolve,
    Status,
    where_said,
)
from koban.domain.plan import PlanTarget
from koban.paging.delivery import step_settled
from koban.paging.delivery_rules import OPEN, DeliveryState
from koban.paging.incidents import StaleIncident, esc_state, handle, load_incident
from koban.paging.task_timeline import task_entries

if TYPE_CHECKING:
    from koban.paging.deps import PagingDeps
_AUDITED = {
    "Acknowledge": "acknowledge",
    "Resolve": "resolve",
    "EscalateNow": "escalate",
    "Reassign": "reassign",
}
_EVENTS = {
    IncidentAction.ACKNOWLEDGE: Acknowledge,
    IncidentAction.RESOLVE: Resolve,
    IncidentAction.ESCALATE: EscalateNow,
}
# The timeline entries that move an escalation to another step, and how a refusal names them.
_MOVES = ("escalated", "escalation.advanced")
# Every answer is a whole sentence per case (not English pieces glued together), so each language
# can order its words its own way; the English text is the same as when these were f-strings.
_ESCALATED_BY = M_("already escalated to {where} by {who}")
_MOVED_BECAUSE = {
    "timeout": M_("already escalated to {where} when its timeout passed"),
    "no one reached": M_("already escalated to {where} when no one was reached"),
}
_ALREADY_BY = {
    ALREADY_RESOLVED: M_("incident is already resolved by {who}"),
    ALREADY_ACKNOWLEDGED: M_("incident is already acknowledged by {who}"),
}
_DONE = {
    Status.TRIGGERED: M_("incident {id} triggered"),
    Status.ACKNOWLEDGED: M_("incident {id} acknowledged"),
    Status.RESOLVED: M_("incident {id} resolved"),
}
_STANDS = {
    Status.ACKNOWLEDGED: (M_("incident {id} is acknowledged"), M_("incident {id} is acknowledged by {who}")),
    Status.RESOLVED: (M_("incident {id} is resolved"), M_("incident {id} is resolved by {who}")),
}
_TOO_FAST = M_("the incident is changing too fast; try again")


def _result(ok: bool, status: str, said: Said) -> ActionResult:
    return ActionResult(ok, status, said.english(), said)


class NotFound(LookupError):
    pass


class Actions:
    def __init__(self, deps: PagingDeps) -> None:
        self.deps = deps

    async def act(
        self,
        incident_id: int,
        action: IncidentAction,
        *,
        actor: str | None,
        via: str,
        note: str | None = None,
        seen: tuple[int, int] | None = None,
        origin: Origin | None = None,
    ) -> ActionResult:
        kind = IncidentAction(action)
        event = (
            EscalateNow(actor, via, seen)
            if kind is IncidentAction.ESCALATE
            else _EVENTS[kind](actor=actor, via=via)
        )
        for _ in range(5):
            try:
                return await self._act(incident_id, event, actor, via, note, origin)
            except StaleIncident:
                continue
        return _result(False, "unknown", Said.of(_TOO_FAST))

    async def refuse(
        self,
        incident_id: int,
        action: IncidentAction,
        *,
        actor: str | None,
        via: str,
        reason: Said | str,
        origin: Origin | None = None,
    ) -> ActionResult:
        """Record an action its door refused before acting (a replayed link, key press or SMS) on the
        timeline and the audit trail, and answer why with where the incident stands now."""
        deps = self.deps
        now = deps.clock.now()
        async with deps.db.begin() as conn:
            found = (
                (await conn.execute(sa.select(t.incidents).where(t.incidents.c.id == incident_id)))
                .mappings()
                .first()
            )
            if found is None:
                raise NotFound(f"incident {incident_id} does not exist")
            row = dict(found)
            why = reason if isinstance(reason, Said) else Said(reason)
            said = Said.of(M_("{reason}; {standing}"), reason=why, standing=_standing(row))
            verb = str(IncidentAction(action))
            await _record_refusal(
                conn, row, verb, said.english(), None, via, origin or Origin(actor, door_for(via)), now
            )
        return _result(False, row["status"], said)

    async def reassign(
        self,
        incident_id: int,
        person: str,
        *,
        actor: str | None,
        via: str,
        note: str | None = None,
        origin: Origin | None = None,
    ) -> ActionResult:
        """Hand the incident to ``person``: paged now on their channels, escalation resumes after the
        current step's timeout unless they acknowledge."""
        p = self.deps.catalog.people.get(person)
        if p is None:
            raise NotFound(f"person {person!r} does not exist")
        targets = tuple(PlanTarget(channel=c, person=person) for c in p.notify)
        event = Reassign(person, targets, actor=actor, via=via)
        for _ in range(5):
            try:
                res = await self._act(incident_id, event, actor, via, note, origin)
            except StaleIncident:
                continue
            if res.ok:
                done = M_("incident {id} reassigned to {person}")
                return _result(True, res.status, Said.of(done, id=incident_id, person=person))
            return res
        return _result(False, "unknown", Said.of(_TOO_FAST))

    async def _act(
        self,
        incident_id: int,
        event: Any,
        actor: str | None,
        via: str,
        note: str | None,
        origin: Origin | None,
    ) -> ActionResult:
        deps = self.deps
        now = deps.clock.now()
        msg = Said("")
        async with deps.db.begin() as conn:
            uow = UnitOfWork(conn, deps.db.dialect)
            row = await load_incident(uow, incident_id)
            if row is None:
                raise NotFound(f"incident {incident_id} does not exist")
            before = row["status"]
            d = await handle(uow, deps.catalog, row, event, now)
            if note and d.refused is None:
                uow.note(incident_id, now, "note", actor, via, {"text": note})
            if d.refused is None:  # a calendar task: who started or finished it, how long after its start
                for kind, data in task_entries(row, str(before), actor, now):
                    uow.note(incident_id, now, kind, actor, via, data)
            await uow.flush()
            if d.refused is None:
                # The same transaction as the change: the trail and the incident never disagree.
                change = Change(
                    f"incident.{_AUDITED[type(event).__name__]}",
                    "incident",
                    str(incident_id),
                    {"status": str(before)},
                    {"status": str(row["status"])},
                )
                await record(conn, origin or Origin(actor, door_for(via)), [change], now)
            else:
                # A refusal changes nothing but is still said on the timeline and the trail: a
                # replayed or late action (three Escalate clicks) shows up as refused, with why.
                msg = await _why(conn, row, d.reason or Said(d.refused))
                verb = _AUDITED[type(event).__name__]
                seen = getattr(event, "seen", None)
                await _record_refusal(
                    conn, row, verb, msg.english(), seen, via, origin or Origin(actor, door_for(via)), now
                )
        if uow.wake:
            deps.wake()
        if d.refused is not None:
            return _result(False, row["status"], msg)
        return _result(True, row["status"], Said.of(_DONE[row["status"]], id=incident_id))

    async def record_outcome(
        self, delivery_key: str, outcome: Outcome, *, detail: Mapping[str, Any] | None = None
    ) -> None:
        deps = self.deps
        now = deps.clock.now()
        d = t.deliveries.c
        state = DeliveryState.REACHED if outcome is Outcome.REACHED else DeliveryState.NOT_REACHED
        async with deps.db.begin() as conn:
            row = (
                (await conn.execute(sa.select(t.deliveries).where(d.key == delivery_key))).mappings().first()
            )
            if row is None or row["state"] not in OPEN:
                return  # unknown or already settled: duplicate or out-of-order callback
            await conn.execute(
                sa.update(t.deliveries)
                .where(d.id == row["id"])
                .values(state=state, settled_at=now, due_at=None)
            )
            uow = UnitOfWork(conn, deps.db.dialect)
            uow.note(
                row["incident_id"],
                now,
                f"notification.{state}",
                row["person_id"],
                row["channel_id"],
                {"key": delivery_key, **dict(detail or {})},
            )
            if state is DeliveryState.NOT_REACHED and row["kind"] == "page":
                await step_settled(deps, uow, row["incident_id"], row["step"], row["loop"], now)
            await uow.flush()
        if uow.wake:
            deps.wake()

    async def note(
        self, incident_id: int, kind: str, *, actor: str | None, via: str, data: Mapping[str, Any]
    ) -> None:
        async with self.deps.db.begin() as conn:
            await conn.execute(
                sa.insert(t.timeline).values(
                    incident_id=incident_id,
                    at=self.deps.clock.now(),
                    kind=kind,
                    actor=actor,
                    via=via,
                    data=dict(data),
                )
            )


async def _why(conn: AsyncConnection, row: dict[str, Any], refused: Said) -> Said:
    """The decision's reason, completed with who made it so ("already escalated to step 2 by bob")."""
    values = dict(refused.values)
    if refused.message == "already escalated to {where}":
        tl = t.timeline.c
        q = (
            sa.select(tl.kind, tl.actor, tl.data)
            .where(tl.incident_id == row["id"], tl.kind.in_(_MOVES))
            .order_by(tl.id.desc())
            .limit(1)
        )
        last = (await conn.execute(q)).first()
        if last is None:
            return refused
        if last.kind == "escalated":
            return Said.of(_ESCALATED_BY, who=last.actor, **values) if last.actor else refused
        because = _MOVED_BECAUSE.get(str((last.data or {}).get("reason")))
        return Said.of(because, **values) if because else refused
    if refused.message in _ALREADY_BY:
        acked = row["status"] == Status.ACKNOWLEDGED
        who = row.get("acknowledged_by") if acked else row.get("resolved_by")
        return Said.of(_ALREADY_BY[refused.message], who=who) if who else refused
    return refused


def _standing(row: dict[str, Any]) -> Said:
    """Where an incident stands, in words: what a refused replay is told instead of acting."""
    status, ident = row["status"], row["id"]
    if status in _STANDS:
        who = row.get("acknowledged_by") if status == Status.ACKNOWLEDGED else row.get("resolved_by")
        alone, by = _STANDS[status]
        return Said.of(by, id=ident, who=who) if who else Said.of(alone, id=ident)
    state = esc_state(row)
    if state.step >= 0:
        return Said.of(M_("incident {id} is triggered at {where}"), id=ident, where=where_said(state))
    return Said.of(M_("incident {id} is triggered"), id=ident)


async def _record_refusal(
    conn: AsyncConnection,
    row: dict[str, Any],
    verb: str,
    message: str,
    seen: tuple[int, int] | None,
    via: str,
    origin: Origin,
    now: float,
) -> None:
    data: dict[str, Any] = {"action": verb, "reason": message}
    if seen is not None:
        data["seen"] = {"step": seen[0], "loop": seen[1]}
    await conn.execute(
        sa.insert(t.timeline).values(
            incident_id=row["id"],
            at=now,
            kind="action.refused",
            actor=origin.actor,
            via=via,
            data=data,
        )
    )
    before = {"status": str(row["status"]), "step": row["esc_step"], "loop": row["esc_loop"]}
    change = Change(f"incident.{verb}.refused", "incident", str(row["id"]), before, {"reason": message})
    await record(conn, origin, [change], now)
