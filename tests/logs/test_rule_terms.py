"""new_term with several fields (separate and composite) and change's timeframe, as pure decisions:
the config they accept, the query they make, and what an answer's buckets mean."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from koban.config.model_logs import LogRule
from koban.logs.rule_queries import Observation, observe, rule_body
from koban.logs.rules import KeyState, changed, evaluate, step

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def _rule(**kw) -> LogRule:
    return LogRule.model_validate({"id": "r", "cluster": "c", "service": "s", "index": "i"} | kw)


def _ms(at: datetime) -> float:
    return at.timestamp() * 1000


def test_new_term_takes_separate_and_composite_fields_as_elastalert():
    rule = _rule(type="new_term", fields=["user", ["host", "port"]])
    assert rule.terms == [("user",), ("host", "port")]
    for bad, why in (
        (["user", "user"], "repeat"),
        ([["host", "host"]], "distinct"),
        ([[]], "1 to 4"),
        ([["a", "b", "c", "d", "e"]], "1 to 4"),
        (["a", "b", "c", "d", "e"], "at most 4"),
    ):
        with pytest.raises(ValidationError, match=why):
            _rule(type="new_term", fields=bad)


def test_new_term_queries_one_aggregation_per_entry_multi_terms_for_a_composite():
    aggs = rule_body(_rule(type="new_term", fields=["user", ["host", "port"]]), NOW)["aggs"]
    assert aggs["terms0"]["terms"]["field"] == "user"
    assert aggs["terms1"]["multi_terms"]["terms"] == [{"field": "host"}, {"field": "port"}]
    assert aggs["terms1"]["aggs"] == {"first": {"min": {"field": "@timestamp"}}}


def test_each_entrys_new_values_are_keyed_and_labelled_by_the_fields_they_name():
    rule = _rule(type="new_term", fields=["user", ["host", "port"]], timeframe="5m")
    fresh, old = {"value": _ms(NOW - timedelta(minutes=1))}, {"value": _ms(NOW - timedelta(days=2))}
    answer = {
        "aggregations": {
            "since": old,
            "terms0": {"buckets": [{"key": "eve", "doc_count": 1, "first": fresh},
                                   {"key": "ann", "doc_count": 9, "first": old}]},
            "terms1": {"buckets": [{"key": ["db1", 22], "doc_count": 2, "first": fresh}]},
        }
    }  # fmt: skip
    seen = observe(rule, answer, NOW)
    assert set(seen) == {'{"user": "eve"}', '{"host": "db1", "port": "22"}'}
    assert seen['{"host": "db1", "port": "22"}'].text.startswith("new (host, port) first seen at")
    _, events = evaluate(rule, {}, seen, NOW)
    labels = {e.dedup_key: e.labels for e in events}
    assert labels['log_rule:r:{"host": "db1", "port": "22"}'] == {
        "log_rule": "r", "rule_type": "new_term", "host": "db1", "port": "22"
    }  # fmt: skip
    assert labels['log_rule:r:{"user": "eve"}']["user"] == "eve"
    assert [e.summary.split(" for ")[1] for e in events] == ["host=db1, port=22", "user=eve"]


def test_one_plain_field_keeps_the_value_as_its_key():
    rule = _rule(type="new_term", fields=["user"])
    fresh = {"value": _ms(NOW - timedelta(minutes=1))}
    answer = {
        "aggregations": {
            "since": {"value": _ms(NOW - timedelta(days=1))},
            "terms0": {"buckets": [{"key": "eve", "doc_count": 1, "first": fresh}]},
        }
    }
    _, events = evaluate(rule, {}, observe(rule, answer, NOW), NOW)
    assert [(e.dedup_key, e.labels["user"]) for e in events] == [("log_rule:r:eve", "eve")]


def _values(*spans: tuple[str, datetime, datetime]) -> Observation:
    return Observation(
        len(spans),
        False,
        "",
        tuple(v for v, _, _ in spans),
        tuple((a.timestamp(), b.timestamp()) for _, a, b in spans),
    )


def test_change_within_its_timeframe_counts_and_after_it_does_not():
    rule = _rule(type="change", compare_key="country", query_key="user", timeframe="1h")
    t0 = NOW - timedelta(hours=3)
    state, obs = changed(rule, KeyState(), _values(("JP", t0, t0)))
    assert (state.last, state.last_at, obs.hit) == ("JP", t0.timestamp(), False)
    later = t0 + timedelta(minutes=59)
    state, obs = changed(rule, state, _values(("FR", later, later)))
    assert obs.hit and state.last_at == later.timestamp()  # JP seen 59 minutes before
    much_later = later + timedelta(minutes=61)
    state, obs = changed(rule, state, _values(("US", much_later, much_later)))
    assert not obs.hit and state.last == "US"  # FR seen 61 minutes before: forgotten
    # within one run: the previous value's last sighting against the next one's first
    a, b = NOW - timedelta(hours=2), NOW - timedelta(minutes=30)
    _, obs = changed(rule, KeyState(), _values(("JP", a, a), ("FR", b, b)))
    assert not obs.hit
    _, obs = changed(rule, KeyState(), _values(("JP", a, b), ("FR", b, NOW)))
    assert obs.hit


def test_change_without_timeframe_compares_with_the_last_value_however_old():
    rule = _rule(type="change", compare_key="country", query_key="user")
    long_ago = NOW - timedelta(days=300)
    state, _ = changed(rule, KeyState(), _values(("JP", long_ago, long_ago)))
    _, obs = changed(rule, state, _values(("FR", NOW, NOW)))
    assert obs.hit and obs.text == "country changed from JP to FR"


def test_a_firing_key_keeps_when_its_value_was_last_seen_through_its_runs():
    state = KeyState(last="JP", last_at=5.0)
    for hit in (True, False, False):
        state, _ = step(state, hit, resolve_after=2)
        assert (state.last, state.last_at) == ("JP", 5.0)


def test_an_alert_carries_the_few_latest_documents_of_its_key():
    rule = _rule(type="frequency", num_events=1, query_key="service.name")
    body = rule_body(rule, NOW)
    assert body["size"] == 0 and body["aggs"]["examples"]["top_hits"]["size"] == 3
    assert "examples" not in rule_body(_rule(type="flatline"), NOW).get("aggs", {})  # fires on absence
    hits = [{"_source": {"service": {"name": s}, "message": f"boom {i}"}} for i, s in enumerate("aab")]
    answer = {
        "aggregations": {
            "keys": {"buckets": [{"key": "a", "doc_count": 2}, {"key": "b", "doc_count": 1}]},
            "examples": {"hits": {"hits": hits}},
        }
    }
    _, events = evaluate(rule, {}, observe(rule, answer, NOW), NOW)
    examples = {e.labels["service.name"]: e.details["examples"] for e in events}
    assert [len(examples["a"]), len(examples["b"])] == [2, 1]
    assert '"message": "boom 2"' in examples["b"][0]
