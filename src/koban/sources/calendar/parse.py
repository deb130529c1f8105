"""An iCalendar feed as plain events over a window (pure: no I/O, no clock).

The feeds that break other tools are read here: ``X-WR-TIMEZONE`` (Google's floating times),
Windows zone names (Outlook's ``Tokyo Standard Time``), modified occurrences (``RECURRENCE-ID``),
``EXDATE``, all-day events and events across a DST change (recurring-ical-events expands in local
time, so a weekly 10:00 stays at 10:00). An HTML page served instead of a calendar is a
``FeedError`` that says so, never an empty calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
import x_wr_timezone
from icalendar import Calendar
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON


class FeedError(ValueError):
    """The body is not a calendar we can read; the message is shown on the calendar's status."""


@dataclass(frozen=True, slots=True)
class CalEvent:
    uid: str
    recurrence_id: str  # "" for a single event; the occurrence's original start (UTC) otherwise
    start: float
    end: float
    summary: str = ""
    location: str = ""
    attendees: tuple[str, ...] = ()  # lower-case email addresses
    organizer: str = ""
    all_day: bool = False
    cancelled: bool = False


def parse_feed(text: str, default_tz: str, start: float, end: float) -> list[CalEvent]:
    """The events overlapping [start, end), occurrences of recurring events expanded, sorted."""
    cal = read_calendar(text)
    tz = _zone(str(cal.get("X-WR-TIMEZONE", "")), default_tz)
    cal = x_wr_timezone.to_standard(cal)  # Google's floating times: times in X-WR-TIMEZONE
    # recurring-ical-events stamps a RECURRENCE-ID on every occurrence, single events included:
    # only a series (RRULE, RDATE, or modified occurrences) has recurrence ids of its own.
    series = {
        str(c.get("UID", "")) for c in cal.walk("VEVENT") if {"RRULE", "RDATE", "RECURRENCE-ID"} & set(c)
    }
    lo, hi = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    try:
        found = recurring_ical_events.of(cal, skip_bad_series=True).between(lo, hi)
    except Exception as e:  # the library raises its own types for broken rules and dates
        raise FeedError(f"cannot expand the calendar's events: {e}") from None
    out = [ev for ev in (_event(c, tz, series) for c in found) if ev is not None]
    return sorted(out, key=lambda e: (e.start, e.uid, e.recurrence_id))


def read_calendar(text: str) -> Calendar:
    body = text.lstrip("\ufeff \t\r\n")
    if not body[:15].upper().startswith("BEGIN:VCALENDAR"):
        head = body[:200].lower()
        if "<html" in head or "<!doctype" in head:
            raise FeedError("the server sent an HTML page, not a calendar (a login page or an error?)")
        raise FeedError(f"not an iCalendar body: it starts with {body[:40]!r}")
    try:
        cal = Calendar.from_ical(_windows_zones(body))
    except ValueError as e:
        raise FeedError(f"not a valid iCalendar body: {e}") from None
    if not isinstance(cal, Calendar):
        raise FeedError("not an iCalendar body")
    return cal


def _zone(name: str, default: str) -> tzinfo:
    """The zone of floating times and all-day dates: the feed's X-WR-TIMEZONE, else the configured one."""
    for candidate in (WINDOWS_TO_OLSON.get(name, name), default):
        try:
            return ZoneInfo(candidate)
        except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
            continue
    return UTC


def _windows_zones(body: str) -> str:
    """``TZID=Tokyo Standard Time`` as ``TZID=Asia/Tokyo``: Outlook names zones the Windows way and
    often leaves their VTIMEZONE out."""
    for name in {n for n in WINDOWS_TO_OLSON if f"TZID={n}" in body or f'TZID="{n}"' in body}:
        olson = WINDOWS_TO_OLSON[name]
        body = body.replace(f'TZID="{name}"', f"TZID={olson}").replace(f"TZID={name}", f"TZID={olson}")
    return body


def _event(c: Any, tz: tzinfo, series: set[str]) -> CalEvent | None:
    if "DTSTART" not in c:
        return None
    raw_start = c["DTSTART"].dt
    all_day = not isinstance(raw_start, datetime)
    begin = _instant(raw_start, tz)
    if "DTEND" in c:
        finish = _instant(c["DTEND"].dt, tz)
    elif "DURATION" in c:
        finish = begin + c["DURATION"].dt.total_seconds()
    else:
        finish = _instant(raw_start + timedelta(days=1), tz) if all_day else begin
    uid = str(c.get("UID", "")) or f"no-uid:{begin}"
    rid = ""
    if uid in series:
        # The occurrence's original start, which a moved occurrence keeps.
        rid = _stamp(_instant(c["RECURRENCE-ID"].dt, tz)) if "RECURRENCE-ID" in c else _stamp(begin)
    org = str(c.get("ORGANIZER", ""))
    attendees = c.get("ATTENDEE", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    return CalEvent(
        uid=uid,
        recurrence_id=rid,
        start=begin,
        end=max(finish, begin),
        summary=str(c.get("SUMMARY", "")),
        location=str(c.get("LOCATION", "")),
        attendees=tuple(_email(str(a)) for a in attendees),
        organizer=_email(org) if org else "",
        all_day=all_day,
        cancelled=str(c.get("STATUS", "")).upper() == "CANCELLED",
    )


def _instant(v: date | datetime, tz: tzinfo) -> float:
    if not isinstance(v, datetime):
        v = datetime(v.year, v.month, v.day)  # an all-day event: the day in the calendar's zone
    if v.tzinfo is None:
        v = v.replace(tzinfo=tz)  # floating time: the calendar's zone
    return v.timestamp()


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y%m%dT%H%M%SZ")


def _email(v: str) -> str:
    return v.removeprefix("mailto:").removeprefix("MAILTO:").strip().lower()
