"""Temporary schedules in the final schedule, coverage reports and incoming people (pure)."""

from __future__ import annotations

from koban.schedules.coverage import gaps_to_warn, incoming, report
from koban.schedules.model import Override, Slot, Temporary
from koban.schedules.resolve import final
from tests.schedules.factories import make_layer, make_schedule, utc

H = 3600.0


def test_a_temporary_schedule_replaces_the_layers_and_overrides_still_apply_on_top() -> None:
    sched = make_schedule("UTC", make_layer(members=("alice",)))
    t0 = utc(2026, 3, 2, 0)
    tmp = Temporary(t0 + 10 * H, t0 + 20 * H, ((t0 + 10 * H, t0 + 14 * H, ("carol",)),), "offsite")
    ill = Override(t0 + 12 * H, t0 + 13 * H, "dave", replaces="carol", id="ill")
    slots = final(sched, [ill], t0, t0 + 24 * H, [tmp])
    got = [((s.start - t0) / H, (s.end - t0) / H, s.people, s.source) for s in slots]
    assert got == [
        (0, 10, ("alice",), "layer:main"),
        (10, 12, ("carol",), "temporary:offsite"),
        (12, 13, ("dave",), "override:ill"),
        (13, 14, ("carol",), "temporary:offsite"),
        (14, 20, (), "gap"),
        (20, 24, ("alice",), "layer:main"),
    ]


def test_the_later_of_two_overlapping_temporary_schedules_wins() -> None:
    sched = make_schedule("UTC", make_layer(members=("alice",)))
    t0 = utc(2026, 3, 2, 0)
    first = Temporary(t0, t0 + 10 * H, ((t0, t0 + 10 * H, ("bob",)),), "a")
    second = Temporary(t0 + 5 * H, t0 + 6 * H, ((t0 + 5 * H, t0 + 6 * H, ("carol",)),), "b")
    slots = final(sched, [], t0, t0 + 10 * H, [first, second])
    assert [s.people for s in slots] == [("bob",), ("carol",), ("bob",)]


def _slot(a: float, b: float, *people: str) -> Slot:
    return Slot(a * H, b * H, people, "gap" if not people else "layer:x")


def test_report_joins_gap_slots_and_counts_hours_per_person() -> None:
    slots = [_slot(0, 2, "alice"), _slot(2, 3), _slot(3, 4), _slot(4, 8, "alice", "bob")]
    cov = report(slots)
    assert cov.gaps == ((2 * H, 4 * H),)
    assert cov.hours == {"alice": 6.0, "bob": 4.0}
    assert cov.covered == 6 / 8


def test_gaps_are_warned_of_within_the_lead_and_incoming_means_newly_on_call() -> None:
    slots = [_slot(0, 2, "alice"), _slot(2, 3), _slot(3, 5, "alice", "bob"), _slot(5, 9, "bob")]
    assert gaps_to_warn(slots, 1 * H, 1 * H) == [(2 * H, 3 * H)]
    assert gaps_to_warn(slots, 2.5 * H, 10 * H) == []  # already running: not news
    assert [(p, s.start / H) for p, s in incoming(slots, 1 * H, 4 * H)] == [("alice", 3.0), ("bob", 3.0)]
    assert incoming(slots, 3 * H, 10 * H) == []  # bob stays on at 5
