"""The pure parts: windows in a zone (with DST), pattern masking, rule hysteresis."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from koban.config.model_logs import LogRule
from koban.domain.alerts import AlertAction
from koban.logs.patterns import mask
from koban.logs.rule_queries import spike
from koban.logs.rules import KeyState, step
from koban.logs.windows import last_fire, window_for

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def test_yesterday_in_tokyo_is_the_previous_local_day():
    fired = last_fire("15 10 * * *", TOKYO, datetime(2026, 3, 11, 2, 0, tzinfo=UTC))
    assert fired == datetime(2026, 3, 11, 1, 15, tzinfo=UTC)  # 10:15 JST
    w = window_for("yesterday", fired, TOKYO)
    assert (w.start, w.end) == (datetime(2026, 3, 9, 15, tzinfo=UTC), datetime(2026, 3, 10, 15, tzinfo=UTC))


def test_a_dst_day_is_23_hours_long():
    fired = last_fire("0 9 * * *", NEW_YORK, datetime(2026, 3, 9, 14, 0, tzinfo=UTC))
    assert fired is not None
    assert window_for("yesterday", fired, NEW_YORK).hours == 23  # 2026-03-08, clocks went forward


def test_last_week_is_monday_to_monday_local():
    fired = datetime(2026, 3, 11, 0, 0, tzinfo=UTC)  # Wednesday 09:00 JST
    w = window_for("last_week", fired, TOKYO)
    assert w.start.astimezone(TOKYO).isoformat() == "2026-03-02T00:00:00+09:00"
    assert w.hours == 168


def test_last_24h_and_last_7d_end_when_the_schedule_fires():
    fired = datetime(2026, 3, 11, 0, 0, tzinfo=UTC)
    day, week = window_for("last_24h", fired, TOKYO), window_for("last_7d", fired, NEW_YORK)
    assert (day.start, day.end) == (datetime(2026, 3, 10, 0, 0, tzinfo=UTC), fired)
    assert (week.end, week.hours) == (fired, 168)  # wall hours, not local days: DST does not shorten it


@pytest.mark.parametrize(
    ("message", "pattern"),
    [
        ("user 42 from 10.0.0.7 failed: 'abc'", "user <N> from <IP> failed: <Q>"),
        ("order order-123 took 3.5 ms", "order <ID> took <N> ms"),
        ("req 550e8400-e29b-41d4-a716-446655440000 done", "req <UUID> done"),
        ("trace 4bf92f3577b34da6a3ce929d0e0e4736 dropped", "trace <ID> dropped"),
        ("GET /api/v1/items/77 timed out after 30s.", "GET /api/v1/items/<N> timed out after <N>."),
    ],
)
def test_masking_keeps_the_words_and_hides_what_varies(message, pattern):
    assert mask(message) == pattern


def test_a_firing_key_resolves_only_after_resolve_after_clear_runs():
    s, a = step(KeyState(), True, 3)
    assert a is AlertAction.TRIGGER
    s, a = step(s, False, 3)
    s, a = step(s, True, 3)  # flapped back: no new trigger, the count starts again
    assert a is None and s == KeyState(firing=True)
    for _ in range(2):
        s, a = step(s, False, 3)
        assert a is None
    assert step(s, False, 3)[1] is AlertAction.RESOLVE


def _rule(**kw):
    return LogRule.model_validate({"id": "r", "cluster": "c", "service": "s", "index": "i"} | kw)


def test_spike_needs_a_reference_to_go_up_and_meets_its_minimum_counts():
    both = _rule(type="spike", spike_height=3)
    assert not spike(both, 50, 0).hit  # nothing before: no rate to compare with
    assert spike(both, 30, 10).hit and not spike(both, 29, 10).hit
    assert spike(both, 3, 9).hit and not spike(both, 4, 9).hit  # down: 9 / 3
    assert not spike(_rule(type="spike", spike_height=3, spike_type="up"), 3, 9).hit
    assert not spike(_rule(type="spike", spike_height=3, threshold_cur=31), 30, 10).hit


def test_each_rule_type_names_what_it_needs():
    for kw, need in (
        ({"type": "blacklist"}, "compare_key"),
        ({"type": "new_term"}, "fields"),
        ({"type": "cardinality", "cardinality_field": "u"}, "max_cardinality or min_cardinality"),
        ({"type": "metric_aggregation", "metric_agg_key": "x"}, "max_threshold or min_threshold"),
        (
            {
                "type": "metric_aggregation",
                "metric_agg_key": "x",
                "max_threshold": 1,
                "metric_agg_type": "percentiles",
            },
            "percentile_range",
        ),
    ):
        with pytest.raises(ValidationError, match=need):
            _rule(**kw)


def _rule(**kw) -> LogRule:
    return LogRule.model_validate({"id": "r", "cluster": "c", "service": "s", "index": "i"} | kw)


def test_change_is_a_value_other_than_the_last_one_seen_and_the_first_value_is_none():
    from koban.logs.rule_queries import Observation
    from koban.logs.rules import changed

    rule = _rule(type="change", compare_key="user", query_key="service")
    seen = Observation(1, False, "", ("ann",))
    state, obs = changed(rule, KeyState(), seen)
    assert state.last == "ann" and not obs.hit
    state, obs = changed(rule, state, Observation(1, False, "", ("bob",)))
    assert state.last == "bob" and obs.hit and obs.text == "user changed from ann to bob"
    _, obs = changed(rule, KeyState(), Observation(2, False, "", ("ann", "bob")))
    assert obs.hit  # two values within one run
    kept, obs = changed(rule, state, Observation(0, False, "", ()))
    assert kept.last == "bob" and not obs.hit


def test_a_compound_keys_labels_come_from_its_json_list():
    from koban.logs.rules import key_labels

    assert key_labels(["service", "user"], '["pay", "ann"]') == {"service": "pay", "user": "ann"}
    assert key_labels(["service"], "pay") == {"service": "pay"}
    assert key_labels([], "") == {}


def test_a_rules_shape_changes_with_its_type_or_key_fields_not_with_its_thresholds():
    from koban.logs.rules import shape_of

    base = _rule(type="frequency", num_events=5, query_key="service")
    assert shape_of(base) == shape_of(base.model_copy(update={"num_events": 9}))
    assert shape_of(base) != shape_of(base.model_copy(update={"type": "flatline"}))
    assert shape_of(base) != shape_of(base.model_copy(update={"query_key": ["service", "user"]}))


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"type": "percentage_match", "max_percentage": 5}, "needs match_bucket_filter"),
        (
            {"type": "percentage_match", "match_bucket_filter": "level:ERROR"},
            "min_percentage or max_percentage",
        ),
        ({"type": "change", "compare_key": "user"}, "needs query_key"),
        ({"type": "any", "query_key": ["a", "b", "c", "d", "e"]}, "1 to 4 fields"),
    ],
)
def test_incomplete_new_rule_kinds_are_refused_with_what_they_miss(kw, why):
    with pytest.raises(ValidationError, match=why):
        _rule(**kw)
