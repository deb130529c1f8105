"""Table tests for Alertmanager's group timers and dedup decision (semantics.md §3.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from koban.routing.alertstore import GroupAlert
from koban.routing.grouping import FlushReason, GroupState, NotifyLog, needs_update, step
from koban.routing.routes import GroupTimers

T0 = datetime(2026, 1, 1, tzinfo=UTC)
S = timedelta(seconds=1)
TIMERS = GroupTimers(group_wait=30 * S, group_interval=300 * S, repeat_interval=3600 * S)


def at(seconds: float) -> datetime:
    return T0 + seconds * S


def make_alert(fp="a", starts=0, ends=None, updated=None) -> GroupAlert:
    return GroupAlert(
        fingerprint=fp,
        labels={"alertname": fp},
        starts_at=at(starts),
        ends_at=None if ends is None else at(ends),
        updated_at=at(updated if updated is not None else max(starts, ends or starts)),
    )


def make_group(**kw) -> GroupState:
    return GroupState(key="{}:{}", receiver="oncall", timers=kw.pop("timers", TIMERS), **kw)


def fps(alerts):
    return sorted(a.fingerprint for a in alerts)


def run(script, state=None):
    """Apply (time, alert-or-None) steps; return every flush as (time, reason, firing fps, resolved fps)."""
    state = state or make_group()
    out = []
    for when, alert in script:
        state, flushes, _ = step(state, alert, at(when))
        for f in flushes:
            out.append((when, f.reason, fps(f.firing), fps(f.resolved)))
    return state, out


def test_first_alert_waits_group_wait_and_gathers_siblings():
    state, flushes = run([(0, make_alert("a")), (10, make_alert("b", starts=10)), (29, None), (30, None)])
    assert flushes == [(30, FlushReason.FIRST, ["a", "b"], [])]
    assert state.next_flush_at == at(330)


def test_alert_older_than_group_wait_flushes_immediately():
    _, flushes = run([(100, make_alert("a", starts=0, updated=100))])
    assert flushes == [(100, FlushReason.FIRST, ["a"], [])]


def test_old_alert_joining_a_waiting_group_flushes_it_immediately():
    _, flushes = run([(0, make_alert("a")), (20, make_alert("b", starts=-60, updated=20))])
    assert flushes == [(20, FlushReason.FIRST, ["a", "b"], [])]


def test_alert_resolved_before_group_wait_sends_nothing_and_the_group_stops():
    state, flushes = run([(0, make_alert("a")), (10, make_alert("a", ends=10)), (30, None)])
    assert flushes == []
    assert state.next_flush_at is None and state.live_alerts() == []


def test_unchanged_group_is_not_resent_before_repeat_interval_which_rounds_up_to_ticks():
    # repeat 3600 s with interval 300 s: last sent at 30; due after 3630, first tick past it is 3930.
    ticks = [(30 + 300 * k, None) for k in range(0, 14)]
    _, flushes = run([(0, make_alert("a"))] + ticks)
    assert [(t, r) for t, r, *_ in flushes] == [(30, FlushReason.FIRST), (3930, FlushReason.REPEAT)]


def test_repeat_smaller_than_group_interval_repeats_every_tick():
    timers = GroupTimers(group_wait=30 * S, group_interval=300 * S, repeat_interval=60 * S)
    _, flushes = run([(0, make_alert("a")), (30, None), (330, None), (630, None)], make_group(timers=timers))
    assert [(t, r) for t, r, *_ in flushes] == [(30, "first notification"), (330, "repeat interval elapsed"),
                                                (630, "repeat interval elapsed")]  # fmt: skip


def test_new_alert_waits_for_the_next_tick_not_group_wait():
    _, flushes = run(
        [(0, make_alert("a")), (30, None), (40, make_alert("b", starts=40)), (100, None), (330, None)]
    )
    assert flushes[-1] == (330, FlushReason.NEW_ALERTS, ["a", "b"], [])


def test_partial_and_full_resolution():
    script = [(0, make_alert("a")), (0, make_alert("b")), (30, None),
              (100, make_alert("a", ends=100)), (330, None),
              (400, make_alert("b", ends=400)), (630, None), (930, None)]  # fmt: skip
    state, flushes = run(script)
    assert flushes[1:] == [
        (330, FlushReason.SOME_RESOLVED, ["b"], ["a"]),
        (630, FlushReason.ALL_RESOLVED, [], ["b"]),
    ]
    assert state.next_flush_at is None  # empty group stops ticking


def test_without_send_resolved_a_partial_resolution_is_silent_but_all_resolved_clears_the_log():
    timers = GroupTimers(
        group_wait=30 * S, group_interval=300 * S, repeat_interval=3600 * S, send_resolved=False
    )
    script = [(0, make_alert("a")), (0, make_alert("b")), (30, None), (100, make_alert("a", ends=100)),
              (330, None), (400, make_alert("b", ends=400)), (630, None)]  # fmt: skip
    state = make_group(timers=timers)
    for when, alert in script:
        state, flushes, _ = step(state, alert, at(when))
        if when == 330:
            assert flushes == []
        if when == 630:
            [flush] = flushes
            assert flush.reason is FlushReason.ALL_RESOLVED and not flush.send


def test_alert_whose_ends_at_passes_without_resend_resolves_at_the_next_tick():
    _, flushes = run([(0, make_alert("a", ends=200, updated=0)), (30, None), (330, None)])
    assert flushes == [(30, FlushReason.FIRST, ["a"], []), (330, FlushReason.ALL_RESOLVED, [], ["a"])]


def test_refiring_after_the_group_stopped_starts_a_new_group_wait_and_notifies_again():
    script = [(0, make_alert("a")), (30, None), (100, make_alert("a", ends=100)), (330, None),
              (1000, make_alert("a", starts=1000)), (1030, None)]  # fmt: skip
    _, flushes = run(script)
    assert flushes[-1] == (1030, FlushReason.FIRST, ["a"], [])


def test_late_older_copy_of_a_resolved_alert_does_not_bring_it_back():
    script = [(0, make_alert("a", updated=0)), (30, None), (100, make_alert("a", ends=100)), (330, None),
              (340, make_alert("a", updated=50))]  # fmt: skip
    state, _ = run(script)
    assert state.live_alerts() == [] and state.next_flush_at is None


LOG = NotifyLog(frozenset({"a"}), frozenset(), at(0))


@pytest.mark.parametrize(
    ("last", "firing", "resolved", "now", "expected"),
    [
        (None, {"a"}, set(), 10, FlushReason.FIRST),
        (None, set(), {"a"}, 10, None),
        (LOG, {"a", "b"}, set(), 10, FlushReason.NEW_ALERTS),
        (NotifyLog(frozenset(), frozenset({"a"}), at(0)), {"b"}, set(), 10, FlushReason.FIRST),
        (LOG, set(), {"a"}, 10, FlushReason.ALL_RESOLVED),
        (NotifyLog(frozenset(), frozenset({"a"}), at(0)), set(), {"b"}, 10, None),
        (NotifyLog(frozenset({"a", "b"}), frozenset(), at(0)), {"a"}, {"b"}, 10, FlushReason.SOME_RESOLVED),
        (LOG, {"a"}, set(), 3600, None),
        (LOG, {"a"}, set(), 3601, FlushReason.REPEAT),
    ],
)
def test_dedup_decision_table(last, firing, resolved, now, expected):
    assert needs_update(last, frozenset(firing), frozenset(resolved), TIMERS, at(now)) == expected
