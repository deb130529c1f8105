"""What koban tells people about schedules: swap decisions, coverage-gap warnings, handoffs.

Must-deliver like a page, so each notice is a ``schedule_notices`` row first (the database is the
queue): its unique key makes it at most once however many instances scan or retry
(``gap:<schedule>:<start>:<channel>``, ``handoff:<schedule>:<shift start>:<person>:<channel>``,
``swap:<id>:<state>:<person>:<channel>``). A worker claims due rows with a lease and sends each
through the channel as a ``notice`` (an incident-shaped message whose summary is the text).

``scan`` decides what is due from the final schedule (schedules/coverage.py, pure) at most every
``SCAN_EVERY`` seconds per instance; the inserts that lose the race to another instance do nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.catalog.snapshot import Catalog
from koban.channels.base import DeliveryResult, DeliveryStatus, IncidentView, Notification, Recipient
from koban.channels.registry import CONTACT_FIELD, NOTICE_TYPES
from koban.channels.slack.usergroups import set_members
from koban.config.model_schedules import UserGroup
from koban.db import schema as t
from koban.db.leased_rows import renewing
from koban.db.queue import claim
from koban.db.schema_schedules import schedule_notices as notices
from koban.paging.on_call import HORIZON, calendar_shifts_of
from koban.schedules import wording
from koban.schedules.build import on_call, resolved
from koban.schedules.coverage import gaps_to_warn, incoming
from koban.schedules.model import Slot

if TYPE_CHECKING:
    from koban.paging.deps import PagingDeps
log = logging.getLogger("koban.schedules")
SCAN_EVERY = 60.0
MAX_ATTEMPTS = 5
SUMMARY_LIMIT = 10


def notice_rows(
    catalog: Catalog, key: str, kind: str, schedule: str, person: str, text: str | Callable[[str], str]
) -> list[dict[str, Any]]:
    """One row per channel of ``person``'s ``notify`` list that carries text (``NOTICE_TYPES``: not a
    voice call); ``text`` given the person's language (schedules/wording.py) is written in it."""
    p = catalog.people.get(person)
    # A channel missing from the config keeps its row: it fails on sending, where it shows.
    chans = [
        c
        for c in (p.notify if p else ())
        if (ch := catalog.channels.get(c)) is None or ch.type in NOTICE_TYPES
    ]
    if callable(text):
        text = text(p.language if p else "en")
    return [
        {"key": f"{key}:{person}:{c}", "kind": kind, "schedule_id": schedule, "person_id": person,
         "channel_id": c, "text": text}
        for c in chans
    ]  # fmt: skip


async def queue(conn: AsyncConnection, dialect: str, rows: list[dict[str, Any]], now: float) -> int:
    """Insert the notices not queued yet (by key); how many were new."""
    new = 0
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for row in rows:
        stmt = (
            insert(notices)
            .values(**row, state="pending", attempts=0, created_at=now, due_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        new += (await conn.execute(stmt)).rowcount or 0
    return new


def _handoff_text(name: str, start: float, tz: str, opened: list[str] | None) -> Callable[[str], str]:
    def text(lang: str) -> str:
        return wording.handoff(lang, name, start, tz, opened)

    return text


async def _open_incidents(conn: AsyncConnection, catalog: Catalog, team: str | None) -> list[str]:
    services = [s.id for s in catalog.services.values() if team is None or s.team == team]
    i = t.incidents.c
    q = (
        sa.select(i.id, i.summary, i.status)
        .where(i.service_id.in_(services), i.status != "resolved")
        .order_by(i.created_at.desc())
        .limit(SUMMARY_LIMIT)
    )
    return [f"#{r.id} {r.summary} ({r.status})" for r in await conn.execute(q)]


async def scan(deps: PagingDeps, now: float) -> int:
    """Queue the gap warnings and handoff messages due now; how many were new."""
    catalog = deps.catalog
    rows: list[dict[str, Any]] = []
    summaries: dict[str | None, list[str]] = {}
    async with deps.db.read() as conn:
        leads = {
            s.id: max(n.gap_warning if n.channel else 0.0, n.handoff or 0.0)
            for s in catalog.schedules.values()
            if (n := s.notices) is not None
        }
        # Imported calendars' shifts count as when paging (paging/on_call.py): one query for all.
        # From as far back as a slot in progress is looked for (the user-group key holds its start).
        horizon = now + max(leads.values(), default=0.0) + 1.0
        shifts = await calendar_shifts_of(conn, catalog, leads, now - HORIZON, max(horizon, now + HORIZON))
        for s in catalog.schedules.values():
            n = s.notices
            if n is None:
                continue
            lead = leads[s.id]
            slots = resolved(s, now - 3600.0, now + lead + 1.0, catalog, shifts.get(s.id, ()))
            if n.channel:
                for a, b in gaps_to_warn(slots, now, n.gap_warning):
                    text = wording.gap(n.language, s.name or s.id, a, b, s.timezone)
                    rows.append(
                        {"key": f"gap:{s.id}:{a:.0f}:{n.channel}", "kind": "gap", "schedule_id": s.id,
                         "person_id": None, "channel_id": n.channel, "text": text}
                    )  # fmt: skip
            if n.usergroup is not None:
                rows += usergroup_rows(
                    s.id, n.usergroup, on_call(s, now, catalog, before=shifts.get(s.id, ())), catalog
                )
            if n.handoff is not None:
                for person, slot in incoming(slots, now, n.handoff):
                    opened: list[str] | None = None
                    if n.handoff_summary:
                        if s.team not in summaries:
                            summaries[s.team] = await _open_incidents(conn, catalog, s.team)
                        opened = summaries[s.team]
                    told = _handoff_text(s.name or s.id, slot.start, s.timezone, opened)
                    key = f"handoff:{s.id}:{slot.start:.0f}"
                    rows += notice_rows(catalog, key, "handoff", s.id, person, told)
    if not rows:
        return 0
    async with deps.db.begin() as conn:
        return await queue(conn, deps.db.dialect, rows, now)


def usergroup_rows(schedule: str, group: UserGroup, slot: Slot, catalog: Catalog) -> list[dict[str, Any]]:
    """The sync of ``group`` to the people of ``slot`` (the one in progress), once per slot and
    membership. A gap, or nobody with a Slack ID, leaves the group as it was: Slack cannot empty one."""
    people = [catalog.people.get(p) for p in slot.people]
    ids = sorted({p.contacts["slack"] for p in people if p is not None and p.contacts.get("slack")})
    if not ids:
        return []
    digest = hashlib.sha256(",".join(ids).encode()).hexdigest()[:12]
    return [
        {"key": f"usergroup:{schedule}:{group.id}:{slot.start:.0f}:{digest}", "kind": "usergroup",
         "schedule_id": schedule, "person_id": None, "channel_id": group.channel,
         "text": f"{group.id}:{','.join(ids)}"}
    ]  # fmt: skip


async def _send(deps: PagingDeps, row: dict[str, Any], now: float) -> DeliveryResult:
    if row["kind"] == "usergroup":  # text: "<group id>:<slack ids>"
        ch = deps.catalog.channels.get(row["channel_id"])
        if ch is None:
            raise ValueError(f"channel {row['channel_id']!r} is not configured")
        group, _, ids = str(row["text"]).partition(":")
        return await set_members(ch.settings(), group, ids.split(","))
    return await deps.channel(row["channel_id"]).send(_notification(row, deps.catalog, now))


def _notification(row: dict[str, Any], catalog: Catalog, now: float) -> Notification:
    person = catalog.people.get(row["person_id"] or "")
    ch = catalog.channels.get(row["channel_id"])
    if ch is None:
        raise ValueError(f"channel {row['channel_id']!r} is not configured")
    field = CONTACT_FIELD.get(ch.type)
    address = person.contacts.get(field, "") if person is not None and field else ""
    if person is not None and field and not address:
        raise ValueError(f"{person.id} has no {field} contact")
    view = IncidentView(
        id=0,
        service=row["schedule_id"],
        summary=row["text"],
        severity="info",
        status="notice",
        dedup_key=row["key"],
        created_at=datetime.fromtimestamp(now, UTC),
    )
    recipient = Recipient(
        address=address,
        person=row["person_id"],
        name=(person.name or person.id) if person else ch.id,
        language=person.language if person else "en-US",
        timezone=person.timezone if person else "UTC",
    )
    return Notification(
        key=row["key"], kind="notice", incident=view, recipient=recipient, channel=ch.id, config=ch.settings()
    )


async def send_due(deps: PagingDeps, limit: int = 50) -> int:
    async with deps.db.begin() as conn:
        now = deps.clock.now()
        rows = await claim(
            conn,
            notices,
            dialect=deps.db.dialect,
            owner=deps.owner,
            now=now,
            lease=deps.settings.lease_seconds,
            limit=limit,
        )
    # Sent one by one: a slow vendor may take longer than a lease, which must not hand the rest to
    # another instance (a second handoff message): their leases are kept until each is recorded.
    async with renewing(deps, notices, [row["id"] for row in rows]) as held:
        for row in rows:
            if row["id"] not in held:
                continue  # taken by another instance while this one stood still: theirs now
            try:
                result = await _send(deps, row, now)
            except ValueError as exc:
                result = DeliveryResult.permanent(str(exc))
            except Exception as exc:  # a channel bug must not stop the worker: retry later
                log.exception("notice %s failed", row["key"])
                result = DeliveryResult.transient(f"{type(exc).__name__}: {exc}")
            attempts = row["attempts"] + 1
            values: dict[str, Any] = {"attempts": attempts, "lease_owner": None, "lease_until": None}
            if result.status == DeliveryStatus.SENT:
                values.update(state="sent", sent_at=deps.clock.now(), due_at=None, error=None)
            elif result.status == DeliveryStatus.TRANSIENT and attempts < MAX_ATTEMPTS:
                values.update(due_at=deps.clock.now() + 30.0 * 2**attempts, error=result.error)
            else:
                values.update(state="failed", due_at=None, error=result.error)
            c = notices.c
            async with deps.db.begin() as conn:
                await conn.execute(
                    sa.update(notices).where(c.id == row["id"], c.lease_owner == deps.owner).values(**values)
                )
            held.discard(row["id"])
    return len(rows)


class ScheduleNotices:
    """The worker's share: scan every ``SCAN_EVERY`` seconds (and when the config changed: a new
    schedule or override may call for a notice sooner), send what is due."""

    def __init__(self, deps: PagingDeps) -> None:
        self.deps = deps
        self.scanned = float("-inf")
        self.seen: tuple = ()

    async def tick(self, due: bool) -> int:
        now = self.deps.clock.now()
        done = 0
        fp = self.deps.catalog.fingerprint
        if now - self.scanned >= SCAN_EVERY or fp != self.seen:
            self.scanned, self.seen = now, fp
            if await scan(self.deps, now):
                due = True
        if due:
            done += await send_due(self.deps)
        return done
