"""Send claimed deliveries, at most once per key.

1. In the claiming transaction (``prepare``): re-check each incident (a page for an acknowledged or
   resolved incident is dropped), mark the rest ``sending``, commit.
2. Outside any transaction: the channels send, concurrently.
3. In one transaction per group of finished sends (``record_many``): record what each channel said,
   only for rows whose lease we still hold.

A crash between 1 and 3 leaves the row ``sending``; when its lease runs out another worker claims it
and asks the channel to ``reconcile`` instead of sending blind (Twilio: look the call up; webhooks:
resend with the same Idempotency-Key, which receivers dedup on).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from koban.channels.base import DeliveryResult, DeliveryStatus
from koban.channels.registry import SHOWS_ON_CALL_TYPES
from koban.db import schema as t
from koban.db.bulk import Bulk, dict_rows
from koban.db.queue import claim
from koban.db.uow import UnitOfWork
from koban.domain.escalation import StepExhausted
from koban.paging.broken_channels import mark_broken
from koban.paging.delivery_rules import DeliveryState, Disposition, disposition, outcome, step_exhausted
from koban.paging.incidents import handle, load_incident
from koban.paging.notifications import Unreachable, build_notification
from koban.paging.rows import ClaimedDelivery, IncidentRow

if TYPE_CHECKING:
    from koban.paging.deps import PagingDeps
log = logging.getLogger("koban.delivery")
NO_LONGER_TRIGGERED = "incident no longer triggered"


@dataclass(frozen=True, slots=True)
class Sending:
    delivery: ClaimedDelivery
    incident: IncidentRow
    mode: Disposition  # SEND | RECONCILE (a crash may have left an earlier attempt in doubt)


_VIEW_COLUMNS = tuple(
    t.incidents.c[n]
    for n in (
        "id", "service_id", "incident_key", "status", "severity", "summary", "source", "details",
        "labels", "links", "alert_count", "created_at", "acknowledged_at", "acknowledged_by",
        "acknowledged_via", "resolved_at",
    )
)  # fmt: skip
_ON_CALL_COLUMNS = (
    t.incidents.c.plan,
    t.incidents.c.esc_step,
    t.incidents.c.esc_loop,
    t.incidents.c.esc_step_started_at,
)
# What sending and recording a claimed delivery read (build_notification, links, outcome, the
# timeline): the RETURNING of every column, times, lease and error included, was per-row work for
# nothing.
CLAIM_COLUMNS = tuple(
    t.deliveries.c[n]
    for n in (
        "id", "key", "incident_id", "kind", "channel_id", "channel_type", "person_id", "step", "loop",
        "state", "attempts", "provider_ref", "meta",
    )
)  # fmt: skip


async def claim_deliveries(
    deps: PagingDeps,
    conn: Any,
    now: float,
    limit: int,
    exclude: Collection[int] = (),
    keys: Collection[str] | None = None,
) -> list[ClaimedDelivery]:
    """Lease up to ``limit`` due deliveries in ``conn``'s transaction: their ``CLAIM_COLUMNS``
    (never those in ``exclude``: the ones this worker is still sending; only those of ``keys``
    when given)."""
    rows = await claim(
        conn,
        t.deliveries,
        dialect=deps.db.dialect,
        owner=deps.owner,
        now=now,
        lease=deps.settings.lease_seconds,
        limit=limit,
        columns=CLAIM_COLUMNS,
        exclude=exclude,
        only=None if keys is None else t.deliveries.c.key.in_(sorted(keys)),
    )
    return cast(list[ClaimedDelivery], rows)


def _shows_on_call(deps: PagingDeps, delivery: ClaimedDelivery) -> bool:
    ch = deps.catalog.channels.get(delivery["channel_id"])
    kinds = {delivery.get("channel_type"), ch.type if ch is not None else None}
    return any(k in SHOWS_ON_CALL_TYPES for k in kinds)


async def prepare(deps: PagingDeps, conn: Any, claimed: list[ClaimedDelivery], now: float) -> list[Sending]:
    """In the claiming transaction: drop or cancel what no longer applies, mark the rest ``sending``.

    Set-based (a few statements per batch, not per row): a burst of thousands of pages must not
    cost thousands of transactions. The lease was taken in this same transaction, so these rows
    are ours.
    """
    if not claimed:
        return []
    d = t.deliveries.c
    ids = {r["incident_id"] for r in claimed}
    # Only what a notification shows: decoding every incident's frozen plan and member list was a
    # visible share of a burst. The plan is read only when a channel shows who is on call (Slack).
    cols = _VIEW_COLUMNS
    if any(_shows_on_call(deps, r) for r in claimed):
        cols = cols + _ON_CALL_COLUMNS
    found = dict_rows(await conn.execute(sa.select(*cols).where(t.incidents.c.id.in_(ids))))
    incidents = {r["id"]: r for r in cast(list[IncidentRow], found)}
    gone: list[int] = []
    moot: list[int] = []
    out: list[Sending] = []
    for row in claimed:
        inc = incidents.get(row["incident_id"])
        match disposition(row["state"], row["kind"], inc["status"] if inc else None):
            case Disposition.DROP:
                gone.append(row["id"])
            case Disposition.CANCEL:
                moot.append(row["id"])
            case mode if inc is not None:  # always: a gone incident is DROP
                out.append(Sending(row, inc, mode))
    if gone:
        await conn.execute(sa.update(t.deliveries).where(d.id.in_(gone)).values(due_at=None))
    if moot:
        await conn.execute(
            sa.update(t.deliveries)
            .where(d.id.in_(moot))
            .values(
                state=DeliveryState.CANCELED,
                due_at=None,
                settled_at=now,
                error=NO_LONGER_TRIGGERED,
            )
        )
    if out:
        await conn.execute(
            sa.update(t.deliveries)
            .where(d.id.in_([s.delivery["id"] for s in out]))
            .values(state=DeliveryState.SENDING, attempts=d.attempts + 1, sending_at=now)
        )
    return out


async def send(deps: PagingDeps, item: Sending) -> DeliveryResult:
    return await _send(deps, item.delivery, item.incident, item.mode)


async def _send(
    deps: PagingDeps, delivery: ClaimedDelivery, incident: IncidentRow, mode: Disposition
) -> DeliveryResult:
    try:
        note = build_notification(
            delivery, incident, deps.catalog, deps.public_url, deps.links_for(delivery, incident)
        )
        channel = deps.channel(delivery["channel_id"])
    except Unreachable as exc:
        return DeliveryResult.permanent(str(exc))
    except ValueError as exc:  # unknown type or bad settings: a configuration problem, not a blip
        return DeliveryResult.permanent(str(exc))
    try:
        if mode == Disposition.RECONCILE:
            return await channel.reconcile(note, delivery.get("provider_ref"))
        return await channel.send(note)
    except Exception as exc:  # a channel bug must not stop the worker; retrying is the safe default
        log.exception("channel %s raised", delivery["channel_id"])
        return DeliveryResult.transient(f"{type(exc).__name__}: {exc}")


_UPDATES: dict[tuple[str, ...], Bulk] = {}


def _update_stmt(columns: tuple[str, ...]) -> Bulk:
    """UPDATE deliveries SET <columns> by id, one driver-level executemany plan per shape."""
    stmt = _UPDATES.get(columns)
    if stmt is None:
        stmt = _UPDATES[columns] = Bulk(
            lambda _dialect: (
                sa.update(t.deliveries)
                .where(t.deliveries.c.id == sa.bindparam("_id"))
                .values({c: sa.bindparam(f"v_{c}") for c in columns})
            )
        )
    return stmt


async def record(deps: PagingDeps, delivery: ClaimedDelivery, result: DeliveryResult) -> None:
    await record_many(deps, [(delivery, result)])


async def record_many(
    deps: PagingDeps,
    done: list[tuple[ClaimedDelivery, DeliveryResult]],
    *,
    then: Callable[[Any], Awaitable[None]] | None = None,
) -> None:
    """Record what the channels said, in one transaction for every send that finished meanwhile.

    Each row is written only while we still hold the claim the send was made under: our lease
    (``lease_owner = me``) and its attempt (``attempts`` as ``prepare`` set it). A lease that ran out
    while the send was in flight may have been claimed again, by this very process too; the later
    claim owns the row then, and the earlier result is dropped (the resend carries the same key).
    ``then(conn)`` runs last in the same transaction (the worker claims its next deliveries there).
    Raises only when nothing was committed.
    """
    now = deps.clock.now()
    d = t.deliveries.c
    recorded: Counter[tuple[str, str]] = Counter()  # one metric increment per outcome, not per row
    first: list[int] = []
    settled: dict[tuple[int, int, int], None] = {}  # ordered, once per step
    refresh = False
    async with deps.db.begin() as conn:
        uow = UnitOfWork(conn, deps.db.dialect)
        # Which leases we still hold, in one statement (locked on PostgreSQL until commit; SQLite
        # holds the write lock), so the UPDATEs below can go as one executemany per shape.
        q = sa.select(d.id, d.attempts).where(
            d.id.in_([x["id"] for x, _ in done]), d.lease_owner == deps.owner
        )
        if deps.db.dialect == "postgresql":
            q = q.order_by(d.id).with_for_update()
        attempt = {i: n for i, n in await conn.execute(q)}
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for delivery, result in done:
            if attempt.get(delivery["id"]) != delivery["attempts"] + 1:
                log.warning(
                    "lost the lease on delivery %s before recording %s", delivery["key"], result.status
                )
                continue
            decided = outcome(
                delivery["kind"],
                delivery["attempts"],
                delivery.get("meta"),
                result,
                now,
                deps.settings.max_delivery_attempts,
            )
            values, note_kind, exhausted = decided.values, decided.note_kind, decided.exhausted
            updates.setdefault(tuple(values), []).append(
                {"_id": delivery["id"], **{f"v_{c}": v for c, v in values.items()}}
            )
            recorded[(delivery["channel_type"], values["state"])] += 1
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
                        "attempt": delivery["attempts"] + 1,
                        "ref": result.provider_ref,
                    },
                )
            if result.status is DeliveryStatus.SENT and delivery["kind"] == "page":
                first.append(delivery["incident_id"])
            broken = result.status is DeliveryStatus.PERMANENT and result.channel_broken
            if broken and await mark_broken(conn, delivery["channel_id"], result.error or "unusable", now):
                refresh = True
                uow.note(
                    delivery["incident_id"],
                    now,
                    "channel.broken",
                    None,
                    delivery["channel_id"],
                    {"reason": result.error},
                )
            if exhausted:
                settled[(delivery["incident_id"], delivery["step"], delivery["loop"])] = None
        for columns, params in updates.items():
            await _update_stmt(columns).run(conn, params)
        # After the UPDATEs: whether a step is settled depends on the states just written.
        for incident_id, step, loop in settled:
            await step_settled(deps, uow, incident_id, step, loop, now)
        if first:
            await _first_notifications(deps, conn, first, now)
        await uow.flush()
        if then is not None:
            await then(conn)
    try:  # committed: what follows must not make the caller think otherwise
        if refresh:
            await deps.refresh_catalog(force=True)  # stop using it here at once; others within seconds
        for (channel_type, state), n in recorded.items():
            deps.metrics.notification(channel_type, state, n)
    except Exception:
        log.exception("after recording %d deliveries", len(done))
    if uow.wake:
        deps.wake()


async def _first_notifications(deps: PagingDeps, conn: Any, incident_ids: list[int], now: float) -> None:
    i = t.incidents.c
    fresh = sa.and_(i.id.in_(set(incident_ids)), i.first_notified_at.is_(None))
    q = sa.select(i.created_at).where(fresh)
    if deps.db.dialect == "postgresql":
        q = q.with_for_update()  # two instances must not both count the same incident
    created = (await conn.execute(q)).scalars().all()
    if created:
        await conn.execute(sa.update(t.incidents).where(fresh).values(first_notified_at=now))
    for c in created:
        deps.metrics.first_notification(now - c)


async def step_settled(
    deps: PagingDeps, uow: UnitOfWork, incident_id: int, step: int, loop: int, now: float
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
    if step_exhausted(states):
        row = await load_incident(uow, incident_id)
        if row is not None:
            await handle(uow, deps.catalog, row, StepExhausted(step, loop), now)
