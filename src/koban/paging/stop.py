"""What ends when an incident stops paging (acknowledged or resolved, by anyone or anything).

In the transaction that changes the incident's status (``incidents.apply``):

- pages not yet sent are canceled, each with a ``notification.canceled`` entry naming the reason;
- every phone call placed for it that may still ring (``sending``, ``awaiting``, ``in_doubt``)
  gets a ``hangup`` delivery: work in the database, claimed and done by a worker like any page
  (any instance, once: its key is the page's key plus ``:hangup``, and an acknowledgement followed
  by a resolve makes the same key, which the insert ignores). The voice channel cancels the call
  through Twilio's call update; a call already answered is told so by its TwiML instead.
"""

from __future__ import annotations

import sqlalchemy as sa

from koban.db import schema as t
from koban.db.uow import UnitOfWork
from koban.paging.delivery_rules import DeliveryState

HANGUP = "hangup"
# A call placed for one of these may still be ringing (or is about to be placed: sending).
CALL_OPEN = (DeliveryState.SENDING, DeliveryState.AWAITING, DeliveryState.IN_DOUBT)


async def stop_paging(uow: UnitOfWork, incident_id: int, status: str, now: float) -> None:
    d = t.deliveries.c
    reason = f"incident {status}"
    await uow.flush_deliveries_of(incident_id)  # pages made earlier in this same batch
    canceled = await uow.conn.execute(
        sa.update(t.deliveries)
        .where(d.incident_id == incident_id, d.kind == "page", d.state == DeliveryState.PENDING)
        .values(state=DeliveryState.CANCELED, due_at=None, settled_at=now, error=reason)
        .returning(d.key, d.channel_id, d.person_id, d.step)
    )
    for r in canceled.all():
        data = {"key": r.key, "step": r.step, "reason": reason}
        uow.note(incident_id, now, "notification.canceled", r.person_id, r.channel_id, data)
    ringing = await uow.conn.execute(
        sa.select(d.key, d.channel_id, d.channel_type, d.person_id, d.step, d.loop, d.provider_ref).where(
            d.incident_id == incident_id,
            d.kind == "page",
            d.channel_type == "voice",
            d.state.in_(CALL_OPEN),
        )
    )
    for r in ringing.all():
        uow.deliveries.append(
            {
                "key": f"{r.key}:{HANGUP}",
                "incident_id": incident_id,
                "kind": HANGUP,
                "channel_id": r.channel_id,
                "channel_type": r.channel_type,
                "person_id": r.person_id,
                "address": "",
                "step": r.step,
                "loop": r.loop,
                "state": DeliveryState.PENDING,
                "attempts": 0,
                "meta": {"previous": {"page": r.key, "call_sid": r.provider_ref}, "reason": reason},
                "created_at": now,
                "due_at": now,
            }
        )
        uow.wake = True
