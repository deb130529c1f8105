"""Interruptions: the pages each person received, by channel, and when they landed in that
person's own time zone. Pure.

A page is a ``page`` delivery a channel accepted (``sent_at``), counted at ``sent_at``. Phone calls
(``voice``) and SMS interrupt; email, Slack, webhooks and the console are counted as pages but do
not interrupt. Each interruption falls in one slot of the recipient's local time:

- ``sleep``: 22:00–08:00, every day;
- ``business``: Monday–Friday 09:00–18:00;
- ``evening_weekend``: everything else (weekdays 08:00–09:00 and 18:00–22:00, weekends 08:00–22:00).

A night is named by the date it began: a call at 03:00 on the 5th wakes its recipient on the
night of the 4th. A person deleted since keeps their id, and is placed in UTC (``known: false``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from koban.reports.records import PageRecord, Period, PersonInfo

INTERRUPTING = frozenset({"voice", "sms"})
SLOTS = ("business", "evening_weekend", "sleep")
SLEEP_FROM, SLEEP_UNTIL = time(22), time(8)
WORK_FROM, WORK_UNTIL = time(9), time(18)


def slot(at: float, tz: str) -> tuple[str, str | None]:
    """(slot, the night's date when it is ``sleep``) of ``at`` in zone ``tz``."""
    local = datetime.fromtimestamp(at, ZoneInfo(tz))
    clock = local.time()
    if clock >= SLEEP_FROM:
        return "sleep", local.date().isoformat()
    if clock < SLEEP_UNTIL:
        return "sleep", (local.date() - timedelta(days=1)).isoformat()
    if local.weekday() < 5 and WORK_FROM <= clock < WORK_UNTIL:
        return "business", None
    return "evening_weekend", None


def person_of(ident: str, people: Mapping[str, PersonInfo]) -> PersonInfo:
    return people.get(ident) or PersonInfo(ident, ident, "UTC", known=False)


# One group of pages, as ``counts_of`` or the database (``interruptions_load``) counts them: who,
# by which channel type, the slot (None for a page that does not interrupt or has no recipient), the
# night's date when the slot is ``sleep``, and how many pages.
Count = tuple[str | None, str, str | None, str | None, int]


def counts_of(pages: Sequence[PageRecord], people: Mapping[str, PersonInfo], period: Period) -> list[Count]:
    """The reference: each page of the period classified by ``slot``, in the recipient's zone."""
    out: dict[tuple[str | None, str, str | None, str | None], int] = {}
    for p in pages:  # counts and sets: the order of the pages does not matter
        if not period.holds(p.sent_at):
            continue
        where: str | None = None
        night: str | None = None
        if p.person is not None and p.channel_type in INTERRUPTING:
            where, night = slot(p.sent_at, person_of(p.person, people).timezone)
        key = (p.person, p.channel_type, where, night)
        out[key] = out.get(key, 0) + 1
    return [(*k, n) for k, n in out.items()]


def interruptions(
    pages: Sequence[PageRecord], people: Mapping[str, PersonInfo], period: Period
) -> dict[str, Any]:
    return interruptions_of(counts_of(pages, people, period), people)


def interruptions_of(counts: Sequence[Count], people: Mapping[str, PersonInfo]) -> dict[str, Any]:
    """The report from the period's pages counted by person, channel type, slot and night."""
    rows: dict[str, dict[str, Any]] = {}
    nights: dict[str, set[str]] = {}
    total: dict[str, Any] = {"pages": 0, "pages_to_no_one": 0, "interruptions": 0, **dict.fromkeys(SLOTS, 0)}
    by_channel: dict[str, int] = {}
    for person, channel_type, where, night, n in counts:
        total["pages"] += n
        by_channel[channel_type] = by_channel.get(channel_type, 0) + n
        if person is None:
            total["pages_to_no_one"] += n
            continue
        who = person_of(person, people)
        row = rows.get(who.id)
        if row is None:
            row = rows[who.id] = {
                "person": who.id,
                "name": who.name,
                "known": who.known,
                "timezone": who.timezone,
                "pages": 0,
                "by_channel": {},
                "interruptions": 0,
                **dict.fromkeys(SLOTS, 0),
            }
            nights[who.id] = set()
        row["pages"] += n
        row["by_channel"][channel_type] = row["by_channel"].get(channel_type, 0) + n
        if where is None:
            continue
        row["interruptions"] += n
        row[where] += n
        total["interruptions"] += n
        total[where] += n
        if night is not None:
            nights[who.id].add(night)
    people_rows = []
    for ident in sorted(rows):
        row = rows[ident]
        row["by_channel"] = dict(sorted(row["by_channel"].items()))
        row["nights_woken"] = len(nights[ident])
        row["nights"] = sorted(nights[ident])
        people_rows.append(row)
    total["by_channel"] = dict(sorted(by_channel.items()))
    return {"total": total, "people": people_rows}
