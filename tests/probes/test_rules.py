from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from koban.domain.alerts import AlertAction, Severity
from koban.probes import MonitorState, ProbeResult, Rule, evaluate, observe, record, should_recheck

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_result(t: float, ok: bool, location: str = "", ms: float = 50, final: bool = True) -> ProbeResult:
    return ProbeResult(
        kind="http",
        target="https://api",
        success=ok,
        started_at=at(t),
        duration=ms / 1000,
        error="" if ok else "HTTP status 503, expected 2xx",
        monitor_id="api",
        location=location,
        final=final,
    )


@pytest.mark.parametrize(
    ("success", "attempt", "rechecks", "again"),
    [
        (True, 0, 3, False),
        (False, 0, 3, True),
        (False, 2, 3, True),
        (False, 3, 3, False),
        (False, 0, 0, False),
    ],
)
def test_should_recheck(success: bool, attempt: int, rechecks: int, again: bool) -> None:
    assert should_recheck(success, attempt, rechecks) is again


def run(rule: Rule, steps: list[tuple]) -> tuple[MonitorState, list]:
    """Feed (t, ok[, location[, ms]]) results through observe(); collect (t, event) pairs."""
    state, events = MonitorState(), []
    for step in steps:
        t, ok, *rest = step
        loc = str(rest[0]) if rest else ""
        ms = float(rest[1]) if len(rest) > 1 else 50.0
        state, out = observe(state, rule, make_result(t, ok, loc, ms), at(t))
        events += [(t, e) for e in out]
    return state, events


def test_first_success_is_silent_and_first_failure_pages_with_no_delay() -> None:
    rule = Rule("api", "payments", name="API health")
    state, events = run(rule, [(0, True), (60, False)])
    assert state.status == "down"
    ((t, event),) = events
    assert t == 60 and event.action == AlertAction.TRIGGER
    assert event.dedup_key == "monitor:api" and event.severity == Severity.CRITICAL
    assert event.summary == "API health is down for 0s: HTTP status 503, expected 2xx"
    assert event.details["first_failed_at"] == at(60).isoformat()
    assert event.labels["service"] == "payments"


def test_down_for_waits_and_recovers_with_a_resolve() -> None:
    rule = Rule("api", "payments", down_for=120)
    state, events = run(rule, [(0, False), (60, False), (120, False), (180, True), (240, True)])
    assert [(t, e.action) for t, e in events] == [(120, AlertAction.TRIGGER), (180, AlertAction.RESOLVE)]
    trigger = events[0][1]
    assert trigger.summary.startswith("api is down for 2m 0s")
    assert trigger.details["first_failed_at"] == at(0).isoformat()
    assert events[1][1].summary == "api is up again after 1m 0s"
    assert state.status == "up"


def test_a_blip_shorter_than_down_for_never_pages() -> None:
    _, events = run(Rule("api", "p", down_for=120), [(0, False), (60, True), (120, False), (180, True)])
    assert events == []


def test_pending_while_waiting_out_down_for() -> None:
    rule = Rule("api", "p", down_for=120)
    state, _ = run(rule, [(0, True), (60, False)])
    assert state.status == "up" and state.pending


def test_time_alone_can_complete_down_for() -> None:
    rule = Rule("api", "p", down_for=120)
    state, _ = run(rule, [(0, False)])
    state, events = evaluate(state, rule, at(130))
    assert state.status == "down" and events[0].action == AlertAction.TRIGGER


def test_non_final_attempts_are_ignored() -> None:
    rule = Rule("api", "p")
    state = record(MonitorState(), rule, make_result(0, False, final=False))
    assert state.latest == {}


def test_slower_than_threshold_for_duration_warns() -> None:
    rule = Rule("api", "p", slow_ms=300, slow_for=60)
    state, events = run(
        rule, [(0, True, "", 100), (60, True, "", 500), (120, True, "", 600), (180, True, "", 80)]
    )
    assert [(t, e.action, e.severity) for t, e in events] == [
        (120, AlertAction.TRIGGER, Severity.WARNING),
        (180, AlertAction.RESOLVE, Severity.WARNING),
    ]
    assert events[0][1].summary == "api is slow for 1m 0s: 600 ms > 300 ms"


def test_slow_then_failing_escalates_severity_with_same_key() -> None:
    rule = Rule("api", "p", slow_ms=300, slow_for=0)
    _, events = run(rule, [(0, True, "", 500), (60, False)])
    assert [(e.action, e.severity, e.dedup_key) for _, e in events] == [
        (AlertAction.TRIGGER, Severity.WARNING, "monitor:api"),
        (AlertAction.TRIGGER, Severity.CRITICAL, "monitor:api"),
    ]


def test_n_of_m_locations() -> None:
    rule = Rule("api", "p", min_failed_locations=2)
    steps = [
        (0, True, "eu"),
        (0, True, "us"),
        (0, True, "ap"),
        (60, False, "eu"),
        (61, True, "us"),
        (62, False, "ap"),
    ]
    state, events = run(rule, steps)
    ((t, event),) = events
    assert t == 62
    assert event.summary.startswith("api is down in 2 of 3 locations for 0s: ap: HTTP status 503")
    assert event.details["first_failed_at"] == at(60).isoformat()
    assert sorted(event.details["locations"]) == ["ap", "eu"]


def test_n_of_m_down_for_counts_from_when_the_nth_location_failed() -> None:
    rule = Rule("api", "p", min_failed_locations=2, down_for=60)
    steps = [(0, False, "eu"), (30, False, "us"), (60, False, "eu"), (89, False, "us"), (91, False, "eu")]
    _, events = run(rule, steps)
    assert [t for t, _ in events] == [91]


def test_stale_locations_do_not_count() -> None:
    rule = Rule("api", "p", min_failed_locations=2, stale_after=120)
    steps = [(0, False, "eu"), (300, False, "us")]  # eu's failure is 5 minutes old
    state, events = run(rule, steps)
    # With one location reporting, N is capped at 1: a single fresh failure is enough.
    assert [(t, e.details["locations_total"]) for t, e in events] == [(0, 1)]
    state, events = evaluate(state, rule, at(300))
    assert state.status == "down" and list(state.latest) == ["eu", "us"]
