"""spike, new_term, cardinality, metric_aggregation, blacklist and whitelist on a real OpenSearch:
each fires on data made to cross its threshold, stays quiet on data that does not, and resolves
(resolve_after: 1) once the data no longer crosses it."""

from __future__ import annotations

from datetime import timedelta

from koban.logs.rule_runner import run_rule
from tests.logs.factories import add, doc, make_index
from tests.logs.test_rules_opensearch import NOW, Raised, rule

MIN = timedelta(minutes=1)


async def test_spike_up_fires_when_the_last_timeframe_has_three_times_the_one_before(opensearch_url, db):
    before = [
        doc(NOW - 7 * MIN - timedelta(seconds=i), "ERROR", "e", service=s)
        for i in range(4)
        for s in ("pay", "web")
    ]
    now_pay = [doc(NOW - 2 * MIN - timedelta(seconds=i), "ERROR", "e", service="pay") for i in range(12)]
    now_web = [doc(NOW - 2 * MIN - timedelta(seconds=i), "ERROR", "e", service="web") for i in range(11)]
    index = await make_index(opensearch_url, before + now_pay + now_web)
    cluster, r = rule(
        opensearch_url, index, type="spike", spike_height=3, spike_type="up", threshold_ref=2,
        query_key="service", resolve_after=1,
    )  # fmt: skip
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.actions() == [("log_rule:r:pay", "trigger")]  # web: 11 against 4 is under x3
    assert "12 log entries in the last 300s against 4 before (x3.00)" in raised.events[0][1].summary
    await run_rule(db, cluster, r, NOW + 5 * MIN, raised)  # now 0 against 12: not up
    assert raised.actions()[-1] == ("log_rule:r:pay", "resolve")


async def test_spike_down_and_minimum_counts(opensearch_url, db):
    index = await make_index(opensearch_url, [doc(NOW - 7 * MIN, "INFO", "tick") for _ in range(10)])
    cluster, r = rule(
        opensearch_url, index, type="spike", spike_height=2, spike_type="down", threshold_ref=11
    )
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.events == []  # 0 against 10, but the reference needs at least 11
    cluster, r = rule(
        opensearch_url, index, type="spike", spike_height=2, spike_type="down", threshold_ref=10
    )
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.actions() == [("log_rule:r", "trigger")]


async def test_new_term_fires_once_per_value_first_seen_and_never_for_values_in_its_history(
    opensearch_url, db
):
    history = [doc(NOW - timedelta(days=d), "INFO", "login", user=u) for d in (3, 10) for u in ("ann", "bob")]
    index = await make_index(opensearch_url, history + [doc(NOW - MIN, "INFO", "login", user="bob")])
    cluster, r = rule(
        opensearch_url, index, type="new_term", fields=["user"], timeframe="5m", resolve_after=1
    )
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.events == []  # bob logged in before, within the 30-day history
    await add(opensearch_url, index, [doc(NOW + MIN, "INFO", "login", user="eve")])
    await run_rule(db, cluster, r, NOW + 2 * MIN, raised)
    assert raised.actions() == [("log_rule:r:eve", "trigger")]
    assert raised.events[0][1].labels["user"] == "eve"
    await run_rule(db, cluster, r, NOW + 3 * MIN, raised)  # still within 5m: no repeat
    await run_rule(db, cluster, r, NOW + 10 * MIN, raised)  # no longer new: resolved
    assert raised.actions() == [("log_rule:r:eve", "trigger"), ("log_rule:r:eve", "resolve")]


async def test_new_term_without_older_history_stays_quiet(opensearch_url, db):
    index = await make_index(
        opensearch_url, [doc(NOW - MIN, "INFO", "login", user=u) for u in ("a", "b", "c")]
    )
    cluster, r = rule(opensearch_url, index, type="new_term", fields=["user"])
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.events == []  # a fresh index: every value would look new, so none is


async def test_cardinality_above_max_per_key(opensearch_url, db):
    docs = [doc(NOW - MIN, "WARN", "failed login", service="web", user=f"u{i}") for i in range(6)]
    docs += [doc(NOW - MIN, "WARN", "failed login", service="pay", user="u1") for _ in range(9)]
    index = await make_index(opensearch_url, docs)
    cluster, r = rule(
        opensearch_url, index, type="cardinality", cardinality_field="user", max_cardinality=5,
        query_key="service", resolve_after=1,
    )  # fmt: skip
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.actions() == [("log_rule:r:web", "trigger")]  # pay: 9 entries but 1 user
    await run_rule(db, cluster, r, NOW + 10 * MIN, raised)
    assert raised.actions()[-1] == ("log_rule:r:web", "resolve")


async def test_metric_aggregation_avg_and_percentile_against_thresholds(opensearch_url, db):
    docs = [doc(NOW - MIN, "INFO", "req", latency=v) for v in (100, 200, 300, 400, 2000)]
    index = await make_index(opensearch_url, docs)
    raised = Raised()
    cluster, r = rule(
        opensearch_url, index, type="metric_aggregation", metric_agg_key="latency", max_threshold=700
    )
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.events == []  # avg 600
    cluster, r = rule(
        opensearch_url, index, type="metric_aggregation", metric_agg_key="latency",
        metric_agg_type="percentiles", percentile_range=90, max_threshold=700, resolve_after=1,
    )  # fmt: skip
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.actions() == [("log_rule:r", "trigger")]
    cluster, r = rule(
        opensearch_url, index, type="metric_aggregation", metric_agg_key="latency",
        metric_agg_type="min", min_threshold=50, resolve_after=1,
    )  # fmt: skip
    await run_rule(db, cluster, r, NOW, raised)  # min 100 is not below 50: the p90 alert clears
    assert raised.actions()[-1] == ("log_rule:r", "resolve")


async def test_blacklist_and_whitelist_on_a_compare_key(opensearch_url, db):
    docs = [doc(NOW - timedelta(seconds=20), "INFO", "login", user=u) for u in ("ann", "root")]
    index = await make_index(opensearch_url, docs)
    raised = Raised()
    cluster, r = rule(opensearch_url, index, type="blacklist", compare_key="user", blacklist=["mallory"])
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.events == []
    cluster, r = rule(opensearch_url, index, type="blacklist", compare_key="user", blacklist=["root"])
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.actions() == [("log_rule:r", "trigger")]
    cluster, r = rule(
        opensearch_url, index, id="w", type="whitelist", compare_key="user", whitelist=["ann", "root"]
    )
    await run_rule(db, cluster, r, NOW, raised)
    assert len(raised.events) == 1  # everyone is allowed
    cluster, r = rule(opensearch_url, index, id="w", type="whitelist", compare_key="user", whitelist=["ann"])
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.actions()[-1] == ("log_rule:w", "trigger")
