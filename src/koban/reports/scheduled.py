"""Scheduled reports: queue each (schedule, period, recipient) once, then send it like a page.

Must-deliver, so each report is a ``report_deliveries`` row first (the database is the queue): its
unique key ``<schedule>:<period start>:<channel>:<recipient>`` is the claim that makes it go out
once per period however many instances scan, restart or retry. The figures are made ``as of`` the
period's end and the text is rendered when the row is queued, so every instance that races to
queue it would write the same words and a retry resends them unchanged. A worker claims due rows
with a lease (``db/queue.py``) and sends each through the channel as a ``report`` notification.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from koban.catalog.deps import StoreDeps
from koban.catalog.snapshot import Catalog
from koban.channels.base import Channel, DeliveryResult, DeliveryStatus, IncidentView, Notification, Recipient
from koban.channels.registry import CONTACT_FIELD
from koban.config.model_reports import ReportSchedule, ReportTarget
from koban.db.leased_rows import renewing
from koban.db.queue import claim
from koban.db.schema_reports import report_deliveries as rd
from koban.reports.build import Query, build
from koban.reports.render import render, title
from koban.reports.schedule_rules import Due, due
from koban.reports.stats import iso

log = logging.getLogger("koban.reports")
MAX_ATTEMPTS = 5
# Email shows the rendered report itself, not the incident template the channel uses for pages.
EMAIL_TEMPLATES = {
    "subject_template": "{{ incident.summary }}",
    "text_template": "{{ incident.details.text }}",
    "html_template": "<pre>{{ incident.details.text }}</pre>",
}


def key_of(schedule: str, due_: Due, target: ReportTarget) -> str:
    who = target.person or target.address or "-"
    return f"{schedule}:{due_.period.since:.0f}:{target.channel}:{who}"


def address_of(target: ReportTarget, catalog: Catalog) -> str:
    if target.address:
        return target.address
    ch = catalog.channels.get(target.channel)
    person = catalog.people.get(target.person or "")
    field = CONTACT_FIELD.get(ch.type) if ch else None
    return person.contacts.get(field, "") if person is not None and field else ""


async def _missing(deps: StoreDeps, keys: Sequence[str]) -> set[str]:
    async with deps.db.read() as conn:
        found = await conn.execute(sa.select(rd.c.key).where(rd.c.key.in_(list(keys))))
        return set(keys) - {r[0] for r in found}


async def make(deps: StoreDeps, sched: ReportSchedule, due_: Due) -> tuple[str, str]:
    """The title and text of one schedule's report for one period, as of the period's end."""
    p = due_.period
    answers = [
        await build(
            deps.db, deps.catalog, Query(name, p, target=sched.target, limit=0), p.until, sched.services
        )
        for name in sched.reports
    ]
    head = title(sched.period, iso(p.since) or "", iso(p.until) or "", p.tz, sched.language)
    return head, render(answers, sched.language)


async def scan(deps: StoreDeps, now: float) -> int:
    """Queue the reports whose period is due and not queued yet; how many rows were new."""
    new = 0
    catalog = deps.catalog
    for sched in catalog.report_schedules.values():
        d = due(sched, now)
        if d is None:
            continue
        keys = {key_of(sched.id, d, t): t for t in sched.send_to}
        missing = await _missing(deps, list(keys))
        if not missing:
            continue
        head, text = await make(deps, sched, d)
        rows = [
            {"key": k, "schedule_id": sched.id, "period_since": d.period.since,
             "period_until": d.period.until, "channel_id": t.channel, "person_id": t.person,
             "address": address_of(t, catalog), "language": sched.language, "title": head,
             "text": text}
            for k, t in keys.items() if k in missing
        ]  # fmt: skip
        new += await queue(deps, rows, now)
    return new


async def queue(deps: StoreDeps, rows: list[dict[str, Any]], now: float) -> int:
    """Insert the rows not queued yet (by key): a row another instance wrote first is left alone."""
    insert = postgresql.insert if deps.db.dialect == "postgresql" else sqlite.insert
    new = 0
    async with deps.db.begin() as conn:
        for row in rows:
            stmt = (
                insert(rd)
                .values(**row, state="pending", attempts=0, created_at=now, due_at=now)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            new += (await conn.execute(stmt)).rowcount or 0
    if new:
        deps.wake()
    return new


def notification(row: dict[str, Any], catalog: Catalog) -> Notification:
    ch = catalog.channels.get(row["channel_id"])
    if ch is None:
        raise ValueError(f"channel {row['channel_id']!r} is not configured")
    person = catalog.people.get(row["person_id"] or "")
    if row["person_id"] and not row["address"] and ch.type == "email":
        raise ValueError(f"{row['person_id']} has no email contact")
    view = IncidentView(
        id=0,
        service=row["schedule_id"],
        summary=row["title"],
        severity="info",
        status="report",
        dedup_key=row["key"],
        created_at=datetime.fromtimestamp(row["period_until"], UTC),
        details={"kind": "report", "text": row["text"]},
    )
    recipient = Recipient(
        address=row["address"],
        person=row["person_id"],
        name=(person.name or person.id) if person else (row["address"] or ch.id),
        language=row["language"],
        timezone=person.timezone if person else "UTC",
    )
    config = {**ch.settings(), **(EMAIL_TEMPLATES if ch.type == "email" else {})}
    return Notification(
        key=f"report:{row['key']}", kind="report", incident=view, recipient=recipient, channel=ch.id,
        config=config,
    )  # fmt: skip


async def send_due(deps: StoreDeps, channel: Callable[[str], Channel], limit: int = 20) -> int:
    async with deps.db.begin() as conn:
        now = deps.clock.now()
        rows = await claim(
            conn, rd, dialect=deps.db.dialect, owner=deps.owner, now=now,
            lease=deps.settings.lease_seconds, limit=limit,
        )  # fmt: skip
    # Sent one by one (an email may take seconds): the rest keep their leases meanwhile, so another
    # instance does not send them a second time; one taken while we stood still is theirs.
    async with renewing(deps, rd, [row["id"] for row in rows]) as held:
        for row in rows:
            if row["id"] not in held:
                continue
            try:
                result = await _send(channel(row["channel_id"]), notification(row, deps.catalog), row)
            except (ValueError, KeyError) as exc:
                result = DeliveryResult.permanent(str(exc))
            except Exception as exc:  # a channel bug must not stop the worker: retry later
                log.exception("report %s failed", row["key"])
                result = DeliveryResult.transient(f"{type(exc).__name__}: {exc}")
            await _record(deps, row, result)
            held.discard(row["id"])
    return len(rows)


async def _send(ch: Channel, n: Notification, row: dict[str, Any]) -> DeliveryResult:
    if row["state"] != "in_doubt":
        return await ch.send(n)
    # The last try may have posted: ask the channel first (Slack looks for the key in history).
    found = await ch.reconcile(n, None)
    return await ch.send(n) if found.status == DeliveryStatus.NOT_SENT else found


async def _record(deps: StoreDeps, row: dict[str, Any], result: DeliveryResult) -> None:
    attempts = row["attempts"] + 1
    values: dict[str, Any] = {"attempts": attempts, "lease_owner": None, "lease_until": None}
    later = deps.clock.now() + max(30.0 * 2**attempts, result.retry_after or 0.0)
    if result.status == DeliveryStatus.SENT:
        values.update(state="sent", sent_at=deps.clock.now(), due_at=None, error=None)
    elif result.status == DeliveryStatus.TRANSIENT and attempts < MAX_ATTEMPTS:
        values.update(due_at=later, error=result.error)
    elif result.status == DeliveryStatus.IN_DOUBT and attempts < MAX_ATTEMPTS:
        values.update(state="in_doubt", due_at=later, error=result.error)
    else:
        values.update(state="failed", due_at=None, error=result.error)
    async with deps.db.begin() as conn:
        await conn.execute(
            sa.update(rd).where(rd.c.id == row["id"], rd.c.lease_owner == deps.owner).values(**values)
        )
