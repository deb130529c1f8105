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


def interruptions(
    pages: Sequence[PageRecord], people: Mapping[str, PersonInfo], period: Period
) -> dict[str, Any]:
    rows: dict[str, dict[str, Any]] = {}
    nights: dict[str, set[str]] = {}
    total: dict[str, Any] = {"pages": 0, "pages_to_no_one": 0, "interruptions": 0, **dict.fromkeys(SLOTS, 0)}
    by_channel: dict[str, int] = {}
    known: dict[str, PersonInfo] = {}
    for p in pages:  # counts and sets: the order of the pages does not matter
        if not period.holds(p.sent_at):
            continue
        total["pages"] += 1
        by_channel[p.channel_type] = by_channel.get(p.channel_type, 0) + 1
        if p.person is None:
            total["pages_to_no_one"] += 1
            continue
        who = known.get(p.person) or known.setdefault(p.person, person_of(p.person, people))
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
        row["pages"] += 1
        row["by_channel"][p.channel_type] = row["by_channel"].get(p.channel_type, 0) + 1
        if p.channel_type not in INTERRUPTING:
            continue
        where, night = slot(p.sent_at, who.timezone)
        row["interruptions"] += 1
        row[where] += 1
        total["interruptions"] += 1
        total[where] += 1
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
