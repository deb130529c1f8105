"""The feeds that break other tools, one table row each (sources/calendar/parse.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from koban.sources.calendar.parse import FeedError, parse_feed


def cal(*events: str, head: str = "") -> str:
    body = "".join(f"BEGIN:VEVENT\n{e.strip()}\nEND:VEVENT\n" for e in events)
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{head}{body}END:VCALENDAR\n"


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def starts(
    text: str, tz: str = "UTC", lo: float = utc(2026, 1, 1), hi: float = utc(2026, 12, 31)
) -> list[str]:
    return [
        datetime.fromtimestamp(e.start, UTC).strftime("%m-%d %H:%M") for e in parse_feed(text, tz, lo, hi)
    ]


def test_x_wr_timezone_places_floating_times_in_the_feeds_zone():
    text = cal("UID:a\nDTSTART:20260302T100000\nDTEND:20260302T110000", head="X-WR-TIMEZONE:Asia/Tokyo\n")
    assert starts(text) == ["03-02 01:00"]


def test_a_windows_zone_name_is_read_as_its_iana_zone():
    text = cal(
        "UID:w\nDTSTART;TZID=Tokyo Standard Time:20260305T090000\n"
        "DTEND;TZID=Tokyo Standard Time:20260305T100000"
    )
    assert starts(text) == ["03-05 00:00"]


def test_a_modified_occurrence_moves_and_keeps_its_recurrence_id():
    text = cal(
        "UID:s\nDTSTART:20260302T100000Z\nDTEND:20260302T110000Z\nRRULE:FREQ=WEEKLY;COUNT=3",
        "UID:s\nRECURRENCE-ID:20260309T100000Z\nDTSTART:20260309T150000Z\nDTEND:20260309T160000Z\nSUMMARY:moved",
    )
    events = parse_feed(text, "UTC", utc(2026, 3, 1), utc(2026, 4, 1))
    assert [(e.recurrence_id, e.summary) for e in events] == [
        ("20260302T100000Z", ""),
        ("20260309T100000Z", "moved"),
        ("20260316T100000Z", ""),
    ]
    assert datetime.fromtimestamp(events[1].start, UTC).hour == 15


def test_exdate_removes_an_occurrence():
    text = cal(
        "UID:s\nDTSTART:20260302T100000Z\nDTEND:20260302T110000Z\nRRULE:FREQ=DAILY;COUNT=3\nEXDATE:20260303T100000Z"
    )
    assert starts(text) == ["03-02 10:00", "03-04 10:00"]


def test_an_all_day_event_covers_the_day_in_the_calendars_zone():
    text = cal("UID:d\nDTSTART;VALUE=DATE:20260304\nDTEND;VALUE=DATE:20260305")
    [e] = parse_feed(text, "Asia/Tokyo", utc(2026, 3, 1), utc(2026, 4, 1))
    assert e.all_day and e.recurrence_id == ""
    assert (e.start, e.end) == (utc(2026, 3, 3, 15), utc(2026, 3, 4, 15))


def test_a_weekly_event_keeps_its_wall_clock_time_across_a_dst_change():
    text = cal(
        "UID:p\nDTSTART;TZID=Europe/Paris:20260323T090000\nDTEND;TZID=Europe/Paris:20260323T100000\nRRULE:FREQ=WEEKLY;COUNT=2"
    )
    assert starts(text) == ["03-23 08:00", "03-30 07:00"]  # 09:00 CET, then 09:00 CEST


def test_an_event_spanning_the_dst_change_lasts_its_real_length():
    text = cal("UID:n\nDTSTART;TZID=Europe/Paris:20260328T220000\nDTEND;TZID=Europe/Paris:20260329T060000")
    [e] = parse_feed(text, "UTC", utc(2026, 3, 1), utc(2026, 4, 1))
    assert e.end - e.start == 7 * 3600  # the night the clocks go forward is an hour shorter


def test_attendees_organizer_and_cancellation_are_read():
    text = cal(
        "UID:m\nDTSTART:20260302T100000Z\nSUMMARY:Backup check\nLOCATION:Osaka DC\nSTATUS:CANCELLED\n"
        "ORGANIZER:mailto:Boss@Example.test\nATTENDEE:mailto:alice@example.test\nATTENDEE:mailto:BOB@example.test"
    )
    [e] = parse_feed(text, "UTC", utc(2026, 3, 1), utc(2026, 4, 1))
    assert (e.organizer, e.attendees, e.location, e.cancelled) == (
        "boss@example.test",
        ("alice@example.test", "bob@example.test"),
        "Osaka DC",
        True,
    )


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("<!DOCTYPE html><html><body>Sign in</body></html>", "HTML page"),
        ("<html><head><title>500</title></head></html>", "HTML page"),
        ('{"error": "gone"}', "not an iCalendar body"),
    ],
)
def test_a_body_that_is_not_a_calendar_is_a_clear_error(body, says):
    with pytest.raises(FeedError, match=says):
        parse_feed(body, "UTC", 0, 1)
