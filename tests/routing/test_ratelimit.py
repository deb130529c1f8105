from __future__ import annotations

from datetime import UTC, datetime, timedelta

from koban.routing.ratelimit import Limits, decide

NOW = datetime(2026, 3, 2, 23, 59, 30, 250000, tzinfo=UTC)
LIMITS = Limits(per_second=5, per_minute=100, per_day=1000)


def apply(counters, decision):
    for key, inc in decision.increments.items():
        counters[key] = counters.get(key, 0) + inc


def test_allowed_request_returns_increments_for_every_window():
    decision = decide("svc", LIMITS, {}, NOW)
    assert decision.allowed and decision.status == 200
    assert set(decision.increments) == {"svc:s:1772495970", "svc:m:29541599", "svc:d:2026-03-02"}
    assert decision.expires["svc:d:2026-03-02"] == datetime(2026, 3, 3, tzinfo=UTC)


def test_per_second_limit_rejects_with_retry_after_until_the_next_second():
    counters: dict[str, int] = {}
    for _ in range(5):
        apply(counters, decide("svc", LIMITS, counters, NOW))
    decision = decide("svc", LIMITS, counters, NOW)
    assert (decision.allowed, decision.status, decision.retry_after) == (False, 429, 1)
    assert decision.increments == {}  # a rejected request consumes nothing
    assert decide("svc", LIMITS, counters, NOW + timedelta(seconds=1)).allowed


def test_daily_quota_retry_after_points_at_utc_midnight():
    counters = {"svc:d:2026-03-02": 1000}
    decision = decide("svc", LIMITS, counters, NOW)
    assert decision.retry_after == 30 and "d" in decision.reason


def test_keys_are_independent_and_no_limits_means_allowed():
    counters = {"svc:d:2026-03-02": 1000}
    assert decide("other", LIMITS, counters, NOW).allowed
    assert decide("svc", Limits(), counters, NOW).increments == {}


def test_batch_cost_counts_against_the_limit():
    assert not decide("svc", LIMITS, {}, NOW, cost=6).allowed
