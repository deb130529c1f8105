"""An iCalendar feed as plain events over a window (pure: no I/O, no clock).

The feeds that break other tools are read here: ``X-WR-TIMEZONE`` (Google's floating times),
Windows zone names (Outlook's ``Tokyo Standard Time``), modified occurrences (``RECURRENCE-ID``),
``EXDATE``, all-day events and events across a DST change (recurring-ical-events expands in local
time, so a weekly 10:00 stays at 10:00). An HTML page served instead of a calendar is a
``FeedError`` that says so, never an empty calendar.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
import x_wr_timezone
from icalendar import Calendar
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from koban.sources.calendar import simple
from koban.sources.calendar.events import CalEvent, FeedError

__all__ = ["CalEvent", "FeedError", "parse_feed", "read_calendar"]
_TZID = re.compile(r'TZID="?([^":;\r\n]+)')


def parse_feed(text: str, default_tz: str, start: float, end: float) -> list[CalEvent]:
    """The events overlapping [start, end), occurrences of recurring events expanded, sorted.

    Plain events are read straight from the text (simple.py); the rest (series, custom zones,
    anything unusual) and the calendar itself go through icalendar and recurring-ical-events."""
    body = _windows_zones(_checked(text))
    blocks, rest = simple.split(simple.lines_of(body))
    named = next((x.partition(":")[2] for x in rest if x.upper().startswith("X-WR-TIMEZONE")), "")
    tz = _zone(named.strip(), default_tz)
    owns = [simple.props(b) for b in blocks]
    series = simple.series_uids(owns)
    out: list[CalEvent] = []
    hard: list[str] = []
    for block, own in zip(blocks, owns, strict=True):
        got = simple.read(own, tz, series, start, end)
        if got is False:
            hard.extend(block)
        elif isinstance(got, CalEvent):
            out.append(got)
    # The library still reads the calendar (with only the events it must): a broken body is an error.
    ends = [i for i, x in enumerate(rest) if x.upper().startswith("END:VCALENDAR")]
    at = ends[-1] if ends else len(rest)
    out += library(read_calendar("\r\n".join([*rest[:at], *hard, *rest[at:]]) + "\r\n"), tz, start, end)
    return sorted(out, key=lambda e: (e.start, e.uid, e.recurrence_id))


def zone_of(cal: Calendar, default_tz: str) -> tzinfo:
    return _zone(str(cal.get("X-WR-TIMEZONE", "")), default_tz)


def library(cal: Calendar, tz: tzinfo, start: float, end: float) -> list[CalEvent]:
    """The events as icalendar and recurring-ical-events read them (every one, when tests compare)."""
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
    return [ev for ev in (_event(c, tz, series) for c in found) if ev is not None]


def _checked(text: str) -> str:
    body = text.lstrip("\ufeff \t\r\n")
    if not body[:15].upper().startswith("BEGIN:VCALENDAR"):
        head = body[:200].lower()
        if "<html" in head or "<!doctype" in head:
            raise FeedError("the server sent an HTML page, not a calendar (a login page or an error?)")
        raise FeedError(f"not an iCalendar body: it starts with {body[:40]!r}")
    return body


def read_calendar(text: str) -> Calendar:
    try:
        cal = Calendar.from_ical(_windows_zones(_checked(text)))
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
    named = {m.group(1) for m in _TZID.finditer(body)}
    for name in named & WINDOWS_TO_OLSON.keys():
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
