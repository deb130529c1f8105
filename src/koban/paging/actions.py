"""The IncidentActions port: every path (API, CLI, keypad, SMS, Slack, links) lands here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from koban.auth.audit import Change, Origin, door_for, record
from koban.channels.actions import ActionResult, IncidentAction, Outcome
from koban.db import schema as t
from koban.db.uow import UnitOfWork
from koban.domain.escalation import Acknowledge, EscalateNow, Reassign, Resolve, Status
from koban.domain.plan import PlanTarget
from koban.paging.delivery import step_settled
from koban.paging.delivery_rules import OPEN, DeliveryState
from koban.paging.incidents import StaleIncident, handle, load_incident

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
        async with deps.db.begin() as conn:
            uow = UnitOfWork(conn, deps.db.dialect)
            row = await load_incident(uow, incident_id)
            if row is None:
                raise NotFound(f"incident {incident_id} does not exist")
            before = row["status"]
            d = await handle(uow, deps.catalog, row, event, now)
            if note and d.refused is None:
                uow.note(incident_id, now, "note", actor, via, {"text": note})
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
        if uow.wake:
            deps.wake()
        if d.refused:
            acked = row["status"] == Status.ACKNOWLEDGED
            who = row.get("acknowledged_by") if acked else row.get("resolved_by")
            msg = d.refused + (f" by {who}" if who and "already" in d.refused else "")
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
