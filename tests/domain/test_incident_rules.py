"""The pure alert → incident rules (domain/incident_rules.py): tables, then properties."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koban.domain.alerts import AlertAction, AlertEvent, Severity
from koban.domain.incident_rules import KeyClock, OpenIncident, Verdict, decide, fold

NOW = 1_800_000_000.0
LATER = NOW + 100  # receipt: the events below happened before it


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(NOW + seconds, UTC)


def trig(
    t: float | None = None, key: str = "a", group: str | None = None, sev: str = "critical"
) -> AlertEvent:
    return AlertEvent(
        key, severity=Severity(sev), occurred_at=at(t) if t is not None else None, group_key=group
    )


def res(t: float | None = None, key: str = "a", group: str | None = None) -> AlertEvent:
    when = at(t) if t is not None else None
    return AlertEvent(key, action=AlertAction.RESOLVE, occurred_at=when, ends_at=when, group_key=group)


OPEN = OpenIncident("triggered", Severity.WARNING)


@pytest.mark.parametrize(
    ("incident", "clock", "event", "verdict"),
    [
        (None, KeyClock(), trig(1), Verdict.OPEN),
        (OPEN, KeyClock(NOW + 1), trig(1), Verdict.REPEAT),  # the same delivery twice
        (None, KeyClock(None, NOW + 5), trig(1), Verdict.IGNORE),  # resolve overtook its trigger
        (None, KeyClock(None, NOW + 5), trig(9), Verdict.OPEN),  # a newer firing opens again
        (OPEN, KeyClock(NOW + 5), res(3), Verdict.IGNORE),  # stale resolve closes nothing
        (OPEN, KeyClock(NOW + 5), res(5), Verdict.RESOLVE),  # a tie resolves
        (None, KeyClock(NOW + 1), trig(1), Verdict.IGNORE),  # duplicate after a person resolved
        (None, KeyClock(NOW + 1), trig(None), Verdict.OPEN),  # no timestamp: a new arrival
        (None, KeyClock(None, NOW), trig(None), Verdict.OPEN),  # ordered after a same-second resolve
    ],
)
def test_decision_table(incident, clock, event, verdict):
    assert decide(incident, clock, event, LATER).verdict is verdict


def test_resolve_without_incident_is_remembered_for_the_late_trigger():
    d = decide(None, KeyClock(), res(5), LATER)
    assert d.verdict is Verdict.IGNORE and d.clock == KeyClock(None, NOW + 5)
    late = decide(None, d.clock, trig(2), LATER)
    assert late.verdict is Verdict.IGNORE and "resolved at" in (late.reason or "")


def test_muted_trigger_is_ignored_and_leaves_the_clock_alone():
    d = decide(None, KeyClock(), trig(1), LATER, muted="muted because silence s1")
    assert d.verdict is Verdict.IGNORE and d.reason == "muted because silence s1" and d.clock == KeyClock()


def test_repeat_raises_severity_and_retriggers_an_acknowledged_incident_when_asked():
    acked = OpenIncident("acknowledged", Severity.WARNING)
    d = decide(acked, KeyClock(NOW), trig(None, sev="critical"), NOW + 1, retrigger_acknowledged=True)
    assert d.verdict is Verdict.REPEAT and d.raise_severity is Severity.CRITICAL and d.retrigger


def test_grouped_incident_resolves_when_its_last_member_does():
    inc, _ = fold([trig(1, "a", "g"), trig(2, "b", "g"), res(3, "a", "g")], LATER)
    assert inc is not None and dict(inc.members) == {"a": "resolved", "b": "firing"}
    inc, _ = fold([trig(1, "a", "g"), trig(2, "b", "g"), res(3, "a", "g"), res(4, "b", "g")], LATER)
    assert inc is None


# -- properties: any interleaving of duplicate and out-of-order deliveries, same final state ------------


@st.composite
def deliveries(draw):
    """Timestamped triggers and resolves for up to three members of one group (or one plain key)."""
    grouped = draw(st.booleans())
    keys = "abc" if grouped else "a"
    events = []
    for _ in range(draw(st.integers(1, 10))):
        key = draw(st.sampled_from(keys))
        t = draw(st.integers(0, 20))
        group = "g" if grouped else None
        events.append(trig(t, key, group) if draw(st.booleans()) else res(t, key, group))
    return events


def final(events):
    inc, clocks = fold(events, NOW + 100)
    firing = {k for k, c in clocks.items() if c.firing}
    return (inc is not None, {k for k, v in (inc.members if inc else {}).items() if v == "firing"}, firing)


@settings(max_examples=400, deadline=None)
@given(events=deliveries(), data=st.data())
def test_any_order_and_duplicates_give_the_same_final_state(events, data):
    again = data.draw(st.lists(st.sampled_from(events), max_size=6))
    shuffled = data.draw(st.permutations(events + again))
    assert final(shuffled) == final(events)


@settings(max_examples=400, deadline=None)
@given(events=deliveries())
def test_an_incident_is_open_exactly_while_some_alert_key_is_firing(events):
    is_open, firing_members, firing_keys = final(events)
    assert is_open == bool(firing_keys)
    if events[0].group_key:
        assert firing_members == firing_keys


@given(
    a=st.tuples(st.none() | st.floats(0, 1e9), st.none() | st.floats(0, 1e9)),
    b=st.tuples(st.none() | st.floats(0, 1e9), st.none() | st.floats(0, 1e9)),
)
def test_clock_join_is_commutative_and_idempotent(a, b):
    x, y = KeyClock(*a), KeyClock(*b)
    assert x.join(y) == y.join(x) and x.join(x) == x and x.join(y).join(y) == x.join(y)


# -- a sender's clock that runs ahead (issue 17, item 10) ------------------------------------------


def test_a_trigger_stamped_in_the_future_counts_from_its_receipt():
    # amtool alert add --end=T: Alertmanager sets startsAt to T, an hour ahead of the receipt.
    opened = decide(None, KeyClock(), trig(3600), NOW)
    assert opened.verdict is Verdict.OPEN and opened.clock.fired_at == NOW


def test_the_resolve_after_a_future_stamped_trigger_closes_the_incident():
    opened = decide(None, KeyClock(), trig(3600), NOW)
    # amtool alert add --end=now-1s, 60 s later: the resolve's time is before the trigger's startsAt.
    closed = decide(OPEN, opened.clock, res(59), NOW + 60)
    assert closed.verdict is Verdict.RESOLVE


def test_a_resolve_stamped_in_the_future_still_resolves_in_arrival_order():
    opened = decide(None, KeyClock(), trig(None), NOW)
    assert decide(OPEN, opened.clock, res(3600), NOW).verdict is Verdict.RESOLVE


@settings(max_examples=300, deadline=None)
@given(ahead=st.floats(0.001, 1e8), gap=st.floats(0.001, 1e6))
def test_no_trigger_time_ahead_of_receipt_makes_a_later_resolve_stale(ahead, gap):
    opened = decide(None, KeyClock(), trig(ahead), NOW)
    later = NOW + gap
    resolve = AlertEvent("a", action=AlertAction.RESOLVE, ends_at=datetime.fromtimestamp(later, UTC))
    assert decide(OPEN, opened.clock, resolve, later).verdict is Verdict.RESOLVE
