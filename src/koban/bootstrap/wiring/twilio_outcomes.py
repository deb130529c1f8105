"""How a call's outcome lands on the delivery row and the escalation, in one transaction.

The Twilio routes use koban's ``IncidentActions`` for keys and notes; ``record_outcome`` is done
here because a phone outcome needs two things the generic path lacks:

- **per-outcome retries** (busy: the same person again after 30 s): a new delivery with its own
  key is written in the same transaction, so the step does not count as exhausted meanwhile;
- **fencing a sender still in flight**: a fast call (busy after one second) can end before the worker
  that placed it records the send. Settling a ``sending`` row clears its lease, so that worker's
  final ``UPDATE … WHERE lease_owner = me`` matches nothing and cannot overwrite the outcome. The same
  holds when the placing process died: the callback settles the row and no one reconciles it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from koban.channels.actions import ActionResult, IncidentAction, Outcome
from koban.channels.voice.retry import RetryAttempt, RetryRule, retry_attempt
from koban.core.i18n import Said
from koban.db import schema as t
from koban.db.uow import UnitOfWork
from koban.domain.escalation import Status
from koban.paging.delivery import step_settled
from koban.paging.delivery_rules import OPEN, DeliveryState

if TYPE_CHECKING:
    from koban.bootstrap.wiring.deps import Wired

log = logging.getLogger("koban.twilio")
RulesFor = Callable[[str], Mapping[str, RetryRule]]
# A delivery row: as read (``RowMapping``, keyed by name or column) or built by hand.
DeliveryRow = Mapping[str, Any] | sa.RowMapping


def retry_row(row: DeliveryRow, retry: RetryAttempt, now: float) -> dict[str, Any]:
    return {
        "key": retry.key,
        "incident_id": row["incident_id"],
        "kind": "page",
        "channel_id": row["channel_id"],
        "channel_type": row["channel_type"],
        "person_id": row["person_id"],
        "address": "",
        "step": row["step"],
        "loop": row["loop"],
        "state": DeliveryState.PENDING,
        "attempts": 0,
        "meta": {"attempt": retry.attempt, "retry_of": retry.first_key},
        "created_at": now,
        "due_at": now + retry.delay_seconds,
    }


class TwilioActions:
    """The ``IncidentActions`` port as the Twilio routes see it."""

    def __init__(self, wired: Wired, rules_for: RulesFor) -> None:
        self.wired, self.rules_for = wired, rules_for

    async def act(
        self,
        incident_id: int,
        action: IncidentAction,
        *,
        actor: str | None,
        via: str,
        note: str | None = None,
        seen: tuple[int, int] | None = None,
    ) -> ActionResult:
        return await self.wired.actions.act(incident_id, action, actor=actor, via=via, note=note, seen=seen)

    async def refuse(
        self, incident_id: int, action: IncidentAction, *, actor: str | None, via: str, reason: Said
    ) -> ActionResult:
        return await self.wired.actions.refuse(incident_id, action, actor=actor, via=via, reason=reason)

    async def note(
        self, incident_id: int, kind: str, *, actor: str | None, via: str, data: Mapping[str, Any]
    ) -> None:
        # The log tells the same story as the timeline: call progress and keys, with who.
        shown = {k: v for k, v in data.items() if k in ("status", "digit", "answered_by", "to")}
        log.info("incident %s: %s %s %s", incident_id, kind, actor or "-", shown)
        await self.wired.actions.note(incident_id, kind, actor=actor, via=via, data=data)

    async def record_outcome(
        self, delivery_key: str, outcome: Outcome, *, detail: Mapping[str, Any] | None = None
    ) -> None:
        wired, d = self.wired, t.deliveries.c
        detail = dict(detail or {})
        now = wired.clock.now()
        state = DeliveryState.REACHED if outcome is Outcome.REACHED else DeliveryState.NOT_REACHED
        async with wired.db.begin() as conn:
            q = sa.select(t.deliveries).where(d.key == delivery_key)
            if wired.db.dialect == "postgresql":
                q = q.with_for_update()
            row = (await conn.execute(q)).mappings().first()
            if row is None or row["state"] not in OPEN:
                return  # unknown, or settled already: a duplicate or late event
            values: dict[str, Any] = {"state": state, "settled_at": now, "due_at": None}
            fenced = row["state"] == DeliveryState.SENDING
            if fenced:
                ref = row["provider_ref"] or detail.get("call_sid")
                values.update(
                    lease_owner=None, lease_until=None, sent_at=row["sent_at"] or now, provider_ref=ref
                )
            res = await conn.execute(
                sa.update(t.deliveries).where(d.id == row["id"], d.state == row["state"]).values(**values)
            )
            if res.rowcount != 1:
                return
            uow = UnitOfWork(conn, wired.db.dialect)
            who, via, inc = row["person_id"], row["channel_id"], row["incident_id"]
            if fenced:
                data = {"key": delivery_key, "ref": values["provider_ref"], "recorded_by": "callback"}
                uow.note(inc, now, "notification.sent", who, via, data)
            uow.note(inc, now, f"notification.{state}", who, via, {"key": delivery_key, **detail})
            log.info(
                "incident %s: call to %s %s (%s)", inc, who, state.replace("_", " "), detail.get("detail")
            )
            if state is DeliveryState.NOT_REACHED and row["kind"] == "page":
                await self._next(uow, row, str(detail.get("detail", "")), now)
            await uow.flush()
        if uow.wake:
            wired.wake()

    async def _next(self, uow: UnitOfWork, row: DeliveryRow, detail: str, now: float) -> None:
        """Retry the same person when the rules say so and the incident still needs someone; else move on."""
        retry = retry_attempt(row["key"], row["meta"] or {}, detail, self.rules_for(row["channel_id"]))
        status = (
            await uow.conn.execute(
                sa.select(t.incidents.c.status).where(t.incidents.c.id == row["incident_id"])
            )
        ).scalar()
        if retry is not None and status == Status.TRIGGERED:
            uow.deliveries.append(retry_row(row, retry, now))
            data = {
                "key": retry.key,
                "after": retry.delay_seconds,
                "because": detail,
                "attempt": retry.attempt,
            }
            uow.note(
                row["incident_id"], now, "call.retry_scheduled", row["person_id"], row["channel_id"], data
            )
            return
        await step_settled(self.wired.paging, uow, row["incident_id"], row["step"], row["loop"], now)
