"""The final schedule as an iCalendar feed (RFC 5545), pure: slots in, bytes out.

Each shift is one event, marked ``TRANSP:TRANSPARENT`` so that being on call does not show the
person as busy all week; overrides appear as the shifts they make (the final schedule), never the
shifts they replaced. Gaps are left out of a person's feed and shown as "Nobody on call" in a
schedule's, since a gap is what its readers need to see. UIDs are stable across fetches (schedule,
start, people), so calendar clients update events instead of duplicating them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from koban.schedules.model import Slot


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def feed(
    name: str,
    shifts: Iterable[tuple[str, Slot]],
    now: float,
    *,
    alarm_minutes: int | None = None,
    show_gaps: bool = True,
) -> bytes:
    """``shifts``: (schedule id, slot) pairs; ``alarm_minutes``: a reminder that long before each."""
    cal = Calendar()
    cal.add("prodid", "-//koban//on-call schedules//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for schedule, slot in shifts:
        if slot.gap and not show_gaps:
            continue
        ev = Event()
        who = ", ".join(slot.people) or "Nobody"
        ev.add("summary", f"{who} on call ({schedule})" if slot.people else f"Nobody on call ({schedule})")
        ev.add("dtstart", _utc(slot.start))
        ev.add("dtend", _utc(slot.end))
        ev.add("dtstamp", _utc(now))
        ev.add("transp", "TRANSPARENT")
        ev.add("description", f"{schedule}: {slot.source}" + (f" (layer {slot.layer})" if slot.layer else ""))
        key = f"{schedule}|{slot.start}|{','.join(slot.people)}"
        ev.add("uid", hashlib.sha256(key.encode()).hexdigest()[:32] + "@koban")
        if alarm_minutes and slot.people:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"On call from {_utc(slot.start):%H:%M} UTC ({schedule})")
            alarm.add("trigger", timedelta(minutes=-alarm_minutes))
            ev.add_component(alarm)
        cal.add_component(ev)
    return bytes(cal.to_ical())
