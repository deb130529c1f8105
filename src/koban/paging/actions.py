"""The IncidentActions port: every path (API, CLI, keypad, SMS, Slack, links) lands here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.auth.audit import Change, Origin, door_for, record
from koban.channels.actions import ActionResult, IncidentAction, Outcome
from koban.db import schema as t
from koban.db.uow import UnitOfWork
from koban.domain.escalation import Acknowledge, EscalateNow, Reassign, Resolve, Status, where
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
_MOVED_BECAUSE = {"timeout": " when its timeout passed", "no one reached": " when no one was reached"}


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
        return ActionResult(False, "unknown", "the incident is changing too fast; try again")

    async def refuse(
        self,
        incident_id: int,
        action: IncidentAction,
        *,
        actor: str | None,
        via: str,
        reason: str,
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
            message = f"{reason}; {_standing(row)}"
            verb = str(IncidentAction(action))
            await _record_refusal(
                conn, row, verb, message, None, via, origin or Origin(actor, door_for(via)), now
            )
        return ActionResult(False, row["status"], message)

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
                return ActionResult(True, res.status, f"incident {incident_id} reassigned to {person}")
            return res
        return ActionResult(False, "unknown", "the incident is changing too fast; try again")

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
        msg = ""
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
                msg = await _why(conn, row, d.refused)
                verb = _AUDITED[type(event).__name__]
                seen = getattr(event, "seen", None)
                await _record_refusal(
                    conn, row, verb, msg, seen, via, origin or Origin(actor, door_for(via)), now
                )
        if uow.wake:
            deps.wake()
        if d.refused is not None:
            return ActionResult(False, row["status"], msg)
        return ActionResult(True, row["status"], f"incident {incident_id} {row['status']}")

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


async def _why(conn: AsyncConnection, row: dict[str, Any], refused: str) -> str:
    """The decision's reason, completed with who made it so ("already escalated to step 2 by bob")."""
    if refused.startswith("already escalated"):
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
            return refused + (f" by {last.actor}" if last.actor else "")
        return refused + _MOVED_BECAUSE.get(str((last.data or {}).get("reason")), "")
    if "already" in refused:
        acked = row["status"] == Status.ACKNOWLEDGED
        who = row.get("acknowledged_by") if acked else row.get("resolved_by")
        return refused + (f" by {who}" if who else "")
    return refused


def _standing(row: dict[str, Any]) -> str:
    """Where an incident stands, in words: what a refused replay is told instead of acting."""
    status = row["status"]
    if status in (Status.ACKNOWLEDGED, Status.RESOLVED):
        who = row.get("acknowledged_by") if status == Status.ACKNOWLEDGED else row.get("resolved_by")
        return f"incident {row['id']} is {status}" + (f" by {who}" if who else "")
    state = esc_state(row)
    return f"incident {row['id']} is {status}" + (f" at {where(state)}" if state.step >= 0 else "")


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
