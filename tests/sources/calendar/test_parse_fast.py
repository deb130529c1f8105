"""The fast path (sources/calendar/simple.py) reads every event as icalendar and
recurring-ical-events do: each feed here is parsed both ways and the events must be equal."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from bench.calendar_feed import feed as bench_feed

from koban.sources.calendar import simple
from koban.sources.calendar.parse import library, parse_feed, read_calendar, zone_of


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


LO, HI = utc(2026, 3, 1), utc(2026, 4, 1)

CUSTOM_ZONE = """BEGIN:VTIMEZONE
TZID:Eastern
BEGIN:STANDARD
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
END:DAYLIGHT
END:VTIMEZONE
"""

EVENTS = [
    "UID:utc\nDTSTART:20260302T100000Z\nDTEND:20260302T110000Z\nSUMMARY:Deploy\\, then check\\; ok\\nnext",
    "UID:tokyo\nDTSTART;TZID=Asia/Tokyo:20260303T090000\nDTEND;TZID=Asia/Tokyo:20260303T100000\n"
    "LOCATION:Room 1\nORGANIZER;CN=Ann:mailto:Ann@Example.org\n"
    "ATTENDEE;CN=Bob;ROLE=REQ-PARTICIPANT:mailto:bob@example.org\nATTENDEE:MAILTO:Carol@example.org",
    'UID:quoted\nDTSTART;TZID="America/New_York":20260308T013000\nDTEND;TZID="America/New_York":20260308T033000',
    "UID:dst-gap\nDTSTART;TZID=America/New_York:20260308T023000\nDTEND;TZID=America/New_York:20260308T040000",
    "UID:floating\nDTSTART:20260304T100000\nDTEND:20260304T110000",
    "UID:allday\nDTSTART;VALUE=DATE:20260305\nDTEND;VALUE=DATE:20260307\nSUMMARY:Holiday",
    "UID:allday-open\nDTSTART;VALUE=DATE:20260306",
    "UID:no-end\nDTSTART:20260307T100000Z",
    "UID:cancelled\nDTSTART:20260308T100000Z\nDTEND:20260308T110000Z\nSTATUS:CANCELLED",
    "UID:alarm\nDTSTART:20260309T100000Z\nDTEND:20260309T110000Z\nSUMMARY:With alarm\n"
    "BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT10M\nDESCRIPTION:soon\nEND:VALARM",
    "UID:folded\nDTSTART:20260310T100000Z\nDTEND:20260310T110000Z\nSUMMARY:A very long\n  title folded",
    "UID:duration\nDTSTART:20260311T100000Z\nDURATION:PT90M",
    "UID:custom\nDTSTART;TZID=Eastern:20260312T100000\nDTEND;TZID=Eastern:20260312T110000",
    "UID:windows\nDTSTART;TZID=Tokyo Standard Time:20260313T090000\n"
    "DTEND;TZID=Tokyo Standard Time:20260313T100000",
    "UID:before\nDTSTART:20260201T100000Z\nDTEND:20260201T110000Z",
    "UID:across-start\nDTSTART:20260228T230000Z\nDTEND:20260301T010000Z",
    "UID:across-end\nDTSTART:20260331T230000Z\nDTEND:20260401T010000Z",
    "UID:series\nDTSTART:20260302T080000Z\nDTEND:20260302T090000Z\nRRULE:FREQ=WEEKLY;COUNT=4\nEXDATE:20260309T080000Z",
    "UID:series\nRECURRENCE-ID:20260316T080000Z\nDTSTART:20260316T120000Z\nDTEND:20260316T130000Z",
    "DTSTART:20260314T100000Z\nDTEND:20260314T110000Z\nSUMMARY:no uid",
]


def cal(events: list[str], head: str = "") -> str:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events).replace("\n", "\r\n")
    body = body.replace("\r\r\n", "\r\n")
    top = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{head}{CUSTOM_ZONE}".replace("\n", "\r\n")
    return top.replace("\r\r\n", "\r\n") + body + "END:VCALENDAR\r\n"


def both(text: str, tz: str, lo: float, hi: float) -> tuple[list, list]:
    fast = parse_feed(text, tz, lo, hi)
    c = read_calendar(text)
    slow = sorted(library(c, zone_of(c, tz), lo, hi), key=lambda e: (e.start, e.uid, e.recurrence_id))
    return fast, slow


@pytest.mark.parametrize("head", ["", "X-WR-TIMEZONE:Asia/Tokyo\n"])
def test_every_kind_of_event_reads_the_same_both_ways(head):
    fast, slow = both(cal(EVENTS, head), "Europe/Paris", LO, HI)
    assert fast == slow
    assert {e.uid for e in fast} >= {"utc", "tokyo", "allday", "custom", "series", "across-start"}


def test_plain_events_skip_the_library_and_series_do_not():
    blocks, _ = simple.split(simple.lines_of(cal(EVENTS)))
    series = simple.series_uids([simple.props(b) for b in blocks])
    read = {b[1]: simple.read(simple.props(b), UTC, series, LO, HI) for b in blocks}
    assert read["UID:utc"] is not False and read["UID:tokyo"] is not False
    assert read["UID:before"] is None  # outside the window
    for hard in ("UID:series", "UID:duration", "UID:custom"):
        assert read[hard] is False


def test_a_generated_feed_of_plain_events_and_series_reads_the_same_both_ways():
    now = utc(2026, 3, 10)
    fast, slow = both(bench_feed(600, now), "UTC", now - 7 * 86400, now + 60 * 86400)
    assert fast == slow and len(fast) > 550


def test_a_broken_body_is_still_an_error():
    from koban.sources.calendar.parse import FeedError

    with pytest.raises(FeedError):
        parse_feed("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:nonsense\r\n", "UTC", 0, time.time())
