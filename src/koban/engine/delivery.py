"""Send one claimed delivery, at most once per key.

1. In a transaction: re-check the delivery (still ours?) and the incident (a page for an
   acknowledged or resolved incident is dropped), then mark it ``sending`` and commit.
2. Outside any transaction: the channel sends.
3. In a transaction: record what the channel said, only if we still hold the lease.

A crash between 1 and 3 leaves the row ``sending``; when its lease runs out another worker claims it
and asks the channel to ``reconcile`` instead of sending blind (Twilio: look the call up; webhooks:
resend with the same Idempotency-Key, which receivers dedup on).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from koban.channels.base import DeliveryResult, DeliveryStatus
from koban.db import schema as t
from koban.domain.escalation import StepExhausted
from koban.engine.backoff import retry_delay
from koban.engine.broken_channels import mark_broken
from koban.engine.incidents import handle, load_incident
from koban.engine.notifications import Unreachable, build_notification
from koban.engine.uow import UnitOfWork

if TYPE_CHECKING:
    from koban.engine.kernel import Kernel

log = logging.getLogger("koban.delivery")
NOT_REACHED = ("failed", "not_reached", "canceled")


async def run_delivery(k: Kernel, claimed: dict[str, Any]) -> None:
    now = k.clock.now()
    d = t.deliveries.c
    async with k.db.begin() as conn:
        row = await conn.execute(
            sa.select(t.deliveries).where(d.id == claimed["id"], d.lease_owner == k.owner)
        )
        delivery = row.mappings().first()
        if delivery is None:
            return  # our lease ran out and someone else has it
        delivery = dict(delivery)
        uow = UnitOfWork(conn, k.db.dialect)
        incident = await load_incident(uow, delivery["incident_id"])
        if incident is None:
            await conn.execute(sa.update(t.deliveries).where(d.id == delivery["id"]).values(due_at=None))
            return
        mode = "send" if delivery["state"] == "pending" else "reconcile"
        if delivery["kind"] == "page" and incident["status"] != "triggered" and mode == "send":
            await conn.execute(
                sa.update(t.deliveries)
                .where(d.id == delivery["id"])
                .values(state="canceled", due_at=None, settled_at=now, error=f"incident {incident['status']}")
            )
            return
        await conn.execute(
            sa.update(t.deliveries)
            .where(d.id == delivery["id"])
            .values(state="sending", attempts=d.attempts + 1, sending_at=now)
        )
    result = await _send(k, delivery, incident, mode)
    await record(k, delivery, result)


async def _send(k: Kernel, delivery: dict[str, Any], incident: dict[str, Any], mode: str) -> DeliveryResult:
    try:
        note = build_notification(
            delivery, incident, k.catalog, k.public_url, k.links_for(delivery, incident)
        )
        channel = k.channel(delivery["channel_id"])
    except Unreachable as exc:
        return DeliveryResult.permanent(str(exc))
    except ValueError as exc:  # unknown type or bad settings: a configuration problem, not a blip
        return DeliveryResult.permanent(str(exc))
    try:
        if mode == "reconcile":
            return await channel.reconcile(note, delivery.get("provider_ref"))
        return await channel.send(note)
    except Exception as exc:  # a channel bug must not stop the worker; retrying is the safe default
        log.exception("channel %s raised", delivery["channel_id"])
        return DeliveryResult.transient(f"{type(exc).__name__}: {exc}")


async def record(k: Kernel, delivery: dict[str, Any], result: DeliveryResult) -> None:
    now = k.clock.now()
    d = t.deliveries.c
    values: dict[str, Any] = {"error": result.error, "lease_owner": None, "lease_until": None}
    note_kind, exhausted = None, False
    attempts = delivery["attempts"] + 1
    match result.status:
        case DeliveryStatus.SENT:
            state = "awaiting" if result.awaits_outcome else "sent"
            values.update(
                state=state,
                sent_at=now,
                due_at=None,
                provider_ref=result.provider_ref,
                meta={**(delivery.get("meta") or {}), **dict(result.meta)},
            )
            note_kind = "notification.sent"
        case DeliveryStatus.NOT_SENT:
            values.update(state="pending", due_at=now)
        case DeliveryStatus.TRANSIENT if attempts < k.settings.max_delivery_attempts:
            values.update(state="pending", due_at=now + retry_delay(attempts, result.retry_after))
            note_kind = "notification.retrying"
        case DeliveryStatus.IN_DOUBT if attempts < k.settings.max_delivery_attempts:
            values.update(state="in_doubt", due_at=now + retry_delay(attempts, result.retry_after))
            note_kind = "notification.in_doubt"
        case _:
            values.update(state="failed", due_at=None, settled_at=now)
            note_kind, exhausted = "notification.failed", delivery["kind"] == "page"
    async with k.db.begin() as conn:
        res = await conn.execute(
            sa.update(t.deliveries).where(d.id == delivery["id"], d.lease_owner == k.owner).values(**values)
        )
        if res.rowcount != 1:
            log.warning("lost the lease on delivery %s before recording %s", delivery["key"], result.status)
            return
        uow = UnitOfWork(conn, k.db.dialect)
        if note_kind:
            uow.note(
                delivery["incident_id"],
                now,
                note_kind,
                actor=delivery.get("person_id"),
                via=delivery["channel_id"],
                data={
                    "key": delivery["key"],
                    "kind": delivery["kind"],
                    "error": result.error,
                    "attempt": attempts,
                    "ref": result.provider_ref,
                },
            )
        if result.status is DeliveryStatus.SENT and delivery["kind"] == "page":
            await _first_notification(k, conn, delivery["incident_id"], now)
        broken = result.status is DeliveryStatus.PERMANENT and result.channel_broken
        if broken and await mark_broken(conn, delivery["channel_id"], result.error or "unusable", now):
            uow.note(
                delivery["incident_id"],
                now,
                "channel.broken",
                None,
                delivery["channel_id"],
                {"reason": result.error},
            )
        if exhausted:
            await step_settled(k, uow, delivery["incident_id"], delivery["step"], delivery["loop"], now)
        await uow.flush()
    if broken:
        await k.refresh_catalog(force=True)  # stop using it here at once; other instances within seconds
    k.metrics.notification(delivery["channel_type"], values["state"])
    if uow.wake:
        k.wake()


async def _first_notification(k: Kernel, conn: Any, incident_id: int, now: float) -> None:
    i = t.incidents.c
    res = await conn.execute(
        sa.update(t.incidents)
        .where(i.id == incident_id, i.first_notified_at.is_(None))
        .values(first_notified_at=now)
        .returning(i.created_at)
    )
    created = res.scalar()
    if created is not None:
        k.metrics.first_notification(now - created)


async def step_settled(
    k: Kernel, uow: UnitOfWork, incident_id: int, step: int, loop: int, now: float
) -> None:
    """When every page of (step, loop) ended without reaching anyone, move on without waiting."""
    d = t.deliveries.c
    states = [
        s
        for (s,) in await uow.conn.execute(
            sa.select(d.state).where(
                d.incident_id == incident_id, d.kind == "page", d.step == step, d.loop == loop
            )
        )
    ]
    if states and all(s in NOT_REACHED for s in states):
        row = await load_incident(uow, incident_id)
        if row is not None:
            await handle(uow, k.catalog, row, StepExhausted(step, loop), now)
