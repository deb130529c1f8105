"""The nasty cases, one table row each: DST gaps and repeats, zones without DST, half-hour DST."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time

import pytest

from koban.schedules.model import MemberChange, Override, Window
from koban.schedules.resolve import final, on_call_at
from tests.schedules.factories import handoffs, make_layer, make_schedule, utc, wall

WEEKDAYS = frozenset(range(5))


def test_paris_weekly_0900_handoff_stays_at_0900_across_both_changes() -> None:
    s = make_schedule("Europe/Paris", make_layer(start=date(2026, 3, 2)))  # Mondays 09:00
    slots = final(s, [], utc(2026, 3, 1), utc(2026, 11, 10))
    changes = handoffs(slots, "Europe/Paris")
    assert changes and all(h.time() == time(9, 0) and h.weekday() == 0 for h in changes)
    starts = {wall(x.start, "UTC") for x in slots}
    assert datetime(2026, 3, 23, 8, 0) in starts  # CET, UTC+1
    assert datetime(2026, 3, 30, 7, 0) in starts  # CEST, UTC+2: the day after the March change
    assert datetime(2026, 10, 26, 8, 0) in starts  # CET again after the October change


@pytest.mark.parametrize(
    ("tz", "handoff", "day", "expected_utc", "why"),
    [
        # 02:30 does not exist on 8 March 2026 in New York: the next valid instant, 03:00 EDT.
        ("America/New_York", time(2, 30), date(2026, 3, 8), datetime(2026, 3, 8, 7, 0), "gap"),
        # 01:30 happens twice on 1 November 2026: the first time, still EDT.
        ("America/New_York", time(1, 30), date(2026, 11, 1), datetime(2026, 11, 1, 5, 30), "repeat"),
        # Lord Howe moves by half an hour: 02:00 -> 02:30 on 4 October 2026.
        ("Australia/Lord_Howe", time(2, 15), date(2026, 10, 4), datetime(2026, 10, 3, 15, 30), "gap"),
        # ...and 02:00 -> 01:30 on 5 April 2026: 01:45 first at +11.
        ("Australia/Lord_Howe", time(1, 45), date(2026, 4, 5), datetime(2026, 4, 4, 14, 45), "repeat"),
        ("Asia/Tokyo", time(10, 0), date(2026, 3, 8), datetime(2026, 3, 8, 1, 0), "no DST"),
    ],
)
def test_daily_handoff_on_a_transition_day(
    tz: str, handoff: time, day: date, expected_utc: datetime, why: str
) -> None:
    s = make_schedule(tz, make_layer(unit="daily", start=date(2026, 1, 1), handoff=handoff))
    t = utc(*expected_utc.timetuple()[:5])
    assert on_call_at(s, [], t - 1).people != on_call_at(s, [], t).people, why
    assert on_call_at(s, [], t).start == t


def test_tokyo_weekly_monday_1000_is_always_0100_utc() -> None:
    s = make_schedule("Asia/Tokyo", make_layer(start=date(2026, 1, 5), handoff=time(10, 0)))
    slots = final(s, [], utc(2026, 1, 1), utc(2027, 1, 1))
    assert {wall(x.start, "UTC").time() for x in slots[1:]} == {time(1, 0)}


def test_higher_layer_wins_only_inside_its_restrictions() -> None:
    base = make_layer("all-day", ("alice", "bob"))
    office = make_layer("office", ("carol",), restrictions=(Window(WEEKDAYS, time(9, 0), time(17, 0)),))
    s = make_schedule("Europe/Paris", base, office)
    # Tuesday 6 January 2026 (CET): carol 09:00-17:00 local, alice around it.
    slots = final(s, [], utc(2026, 1, 6, 0), utc(2026, 1, 7, 0))
    assert [(wall(x.start, "Europe/Paris").hour, x.people, x.source) for x in slots] == [
        (1, ("alice",), "layer:all-day"),
        (9, ("carol",), "layer:office"),
        (17, ("alice",), "layer:all-day"),
    ]


def test_night_window_runs_past_midnight_and_the_rest_is_a_gap() -> None:
    nights = make_layer(
        "nights", ("bob",), unit="daily", restrictions=(Window(frozenset(range(7)), time(22, 0), time(6, 0)),)
    )
    s = make_schedule("UTC", nights)
    slots = final(s, [], utc(2026, 2, 2, 12), utc(2026, 2, 3, 12))
    assert [(wall(x.start, "UTC").hour, x.people, x.gap) for x in slots] == [
        (12, (), True),
        (22, ("bob",), False),
        (6, (), True),
    ]
    assert slots[0].source == "gap"


def test_before_its_start_a_layer_covers_nothing() -> None:
    s = make_schedule("UTC", make_layer(start=date(2026, 6, 1)))
    slots = final(s, [], utc(2026, 5, 31), utc(2026, 6, 2))
    assert [(x.gap, wall(x.start, "UTC")) for x in slots] == [
        (True, datetime(2026, 5, 31)),
        (False, datetime(2026, 6, 1, 9)),
    ]


def test_changing_members_keeps_the_past_and_starts_the_new_list_at_the_next_handoff() -> None:
    layer = make_layer(unit="daily", members=("alice", "bob"), start=date(2026, 1, 1), handoff=time(0, 0))
    changed = replace(layer, changes=(MemberChange(utc(2026, 1, 10, 12), ("carol", "dave")),))
    before = make_schedule("UTC", layer)
    after = make_schedule("UTC", changed)
    past = (utc(2026, 1, 1), utc(2026, 1, 11))
    assert final(before, [], *past) == final(after, [], *past)  # 10 January stays with bob
    assert on_call_at(after, [], utc(2026, 1, 11, 3)).people == ("carol",)
    assert on_call_at(after, [], utc(2026, 1, 12, 3)).people == ("dave",)


def test_monthly_on_the_31st_hands_off_on_the_last_day_of_shorter_months() -> None:
    s = make_schedule("UTC", make_layer(unit="monthly", start=date(2026, 1, 31), handoff=time(0, 0)))
    slots = final(s, [], utc(2026, 1, 31), utc(2026, 5, 1))
    assert [wall(x.start, "UTC").date() for x in slots] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]


def test_rrule_twice_a_day_at_0800_and_2000_wall_clock() -> None:
    layer = make_layer(
        rrule="FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0;BYSECOND=0", start=date(2026, 3, 27), handoff=time(8, 0)
    )
    s = make_schedule("Europe/Paris", layer)
    slots = final(s, [], utc(2026, 3, 27, 7), utc(2026, 3, 31))
    assert {wall(x.start, "Europe/Paris").hour for x in slots} == {8, 20}
    assert len(slots) == 8


def test_overrides_add_remove_and_replace_for_their_interval_only() -> None:
    s = make_schedule("UTC", make_layer(members=("alice",), start=date(2026, 1, 5)))
    ovs = [
        Override(utc(2026, 1, 6, 10), utc(2026, 1, 6, 12), "carol", "replace", id="ill"),
        Override(utc(2026, 1, 6, 11), utc(2026, 1, 6, 13), "bob", "add", id="shadow"),
        Override(utc(2026, 1, 6, 14), utc(2026, 1, 6, 15), "alice", "remove", id="dentist"),
    ]
    slots = final(s, ovs, utc(2026, 1, 6, 9), utc(2026, 1, 6, 16))
    assert [(wall(x.start, "UTC").hour, x.people, x.source) for x in slots] == [
        (9, ("alice",), "layer:main"),
        (10, ("carol",), "override:ill"),
        (11, ("carol", "bob"), "override:shadow"),
        (12, ("alice", "bob"), "override:shadow"),
        (13, ("alice",), "layer:main"),
        (14, (), "override:dentist"),
        (15, ("alice",), "layer:main"),
    ]
    assert slots[5].gap


def test_replace_names_whom_it_replaces() -> None:
    s = make_schedule("UTC", make_layer(members=("alice",), start=date(2026, 1, 5)))
    swap = Override(utc(2026, 1, 6), utc(2026, 1, 7), "carol", "replace", replaces="bob", id="x")
    assert on_call_at(s, [swap], utc(2026, 1, 6, 5)).people == ("alice",)  # bob is not on: no effect
