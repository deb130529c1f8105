"""Any interleaving of duplicate and out-of-order deliveries yields the same final state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from koban.routing.alertstore import GroupAlert, StoredAlert
from koban.routing.grouping import GroupState, step
from koban.routing.routes import GroupTimers

T0 = datetime(2026, 1, 1, tzinfo=UTC)
S = timedelta(seconds=1)
TIMERS = GroupTimers(group_wait=30 * S, group_interval=300 * S, repeat_interval=3600 * S)


@st.composite
def versions(draw, max_time: int = 25) -> GroupAlert:
    """One delivery of alert a/b/c: firing, or resolved at a time no later than it was sent."""
    fp = draw(st.sampled_from("abc"))
    starts = draw(st.integers(0, max_time))
    updated = draw(st.integers(starts, max_time))
    resolved = draw(st.booleans())
    ends = draw(st.integers(starts, updated)) if resolved else None
    return GroupAlert(
        fingerprint=fp,
        labels={"alertname": fp},
        starts_at=T0 + starts * S,
        ends_at=None if ends is None else T0 + ends * S,
        updated_at=T0 + updated * S,
    )


deliveries = st.lists(versions(), min_size=1, max_size=12)


def deliver(batch, times, state=None):
    state = state or GroupState(key="g", receiver="r", timers=TIMERS)
    flushes = []
    for when, alert in zip(times, batch, strict=True):
        state, out, _ = step(state, alert, T0 + when * S)
        flushes += out
    return state, flushes


def summary(flush):
    return (flush.reason, [(a.fingerprint, a.starts_at, a.ends_at) for a in flush.firing + flush.resolved])


@settings(max_examples=300, deadline=None)
@given(batch=deliveries, data=st.data())
def test_deliveries_within_group_wait_flush_the_same_content_in_any_order(batch, data):
    # Everything arrives between t=25 and t=29 (inside group_wait, alerts too young to flush early).
    shuffled = data.draw(st.permutations(batch + data.draw(st.lists(st.sampled_from(batch), max_size=5))))
    times = sorted(data.draw(st.lists(st.integers(25, 29), min_size=len(shuffled), max_size=len(shuffled))))
    reference_times = sorted([25] + [29] * (len(batch) - 1))
    state_a, _ = deliver(batch, reference_times)
    state_b, _ = deliver(list(shuffled), [25] + times[1:])
    tick = T0 + 55 * S
    state_a, flushes_a, _ = step(state_a, None, tick)
    state_b, flushes_b, _ = step(state_b, None, tick)
    assert [summary(f) for f in flushes_a] == [summary(f) for f in flushes_b]
    assert state_a.alerts == state_b.alerts
    assert state_a.last_notified == state_b.last_notified


@settings(max_examples=300, deadline=None)
@given(batch=deliveries, data=st.data())
def test_merged_alert_is_independent_of_order_and_duplicates(batch, data):
    shuffled = data.draw(st.permutations(batch + data.draw(st.lists(st.sampled_from(batch), max_size=5))))

    def fold(items):
        store = {}
        for alert in items:
            current = store.get(alert.fingerprint)
            store[alert.fingerprint] = StoredAlert.of(alert) if current is None else current.merge(alert)
        return {fp: s.view() for fp, s in store.items()}

    assert fold(batch) == fold(shuffled)


@settings(max_examples=200, deadline=None)
@given(batch=deliveries, data=st.data())
def test_after_settling_the_receiver_was_last_told_the_same_firing_set(batch, data):
    shuffled = list(data.draw(st.permutations(batch)))
    spread = data.draw(st.lists(st.integers(0, 2000), min_size=len(batch), max_size=len(batch)))
    state_a, _ = deliver(batch, [0] * len(batch))
    state_b, _ = deliver(shuffled, sorted(spread))
    # Tick both far into the future until both are quiet; only the settled outcome must agree.
    for k in range(40):
        now = T0 + (3000 + 300 * k) * S
        state_a, _, _ = step(state_a, None, now)
        state_b, _, _ = step(state_b, None, now)
    firing = {a.fingerprint for a in state_a.live_alerts()}
    assert firing == {a.fingerprint for a in state_b.live_alerts()}
    assert (state_a.last_notified.firing if state_a.last_notified else frozenset()) == firing
    assert (state_b.last_notified.firing if state_b.last_notified else frozenset()) == firing
