"""frequency, flatline and any on a real OpenSearch: each fires when the data crosses its threshold,
stays quiet when it does not, and resolves after resolve_after clear runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from koban.domain.alerts import AlertAction, AlertEvent
from koban.logs.rule_runner import run_rule
from tests.logs.factories import add, config, doc, make_index

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


class Raised:
    def __init__(self) -> None:
        self.events: list[tuple[str, AlertEvent]] = []

    async def __call__(self, service: str, events: list[AlertEvent]) -> None:
        self.events += [(service, e) for e in events]

    def actions(self) -> list[tuple[str, str]]:
        return [(e.dedup_key, e.action.value) for _, e in self.events]


def rule(url: str, index: str, **kw):
    base = {"id": "r", "cluster": "local", "service": "shop", "index": index, "timeframe": "5m"}
    cfg = config(url, log_rules=[base | kw])
    return cfg.log_clusters[0], cfg.log_rules[0]


async def test_frequency_fires_at_num_events_per_key_and_resolves_after_two_clear_runs(opensearch_url, db):
    errors = [doc(NOW - timedelta(minutes=1, seconds=i), "ERROR", "boom", service="pay") for i in range(5)]
    errors += [doc(NOW - timedelta(minutes=1, seconds=i), "ERROR", "boom", service="web") for i in range(4)]
    errors.append(doc(NOW - timedelta(minutes=9), "ERROR", "old", service="web"))  # outside the 5m
    index = await make_index(opensearch_url, errors)
    cluster, r = rule(
        opensearch_url, index, type="frequency", num_events=5, filter="level:ERROR", query_key="service"
    )
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.actions() == [("log_rule:r:pay", "trigger")]  # web has 4 in 5m: quiet
    assert raised.events[0][0] == "shop" and raised.events[0][1].labels["service"] == "pay"
    examples = raised.events[0][1].details["examples"]  # a few of pay's latest entries, not web's
    assert 1 <= len(examples) <= 3 and all('"service": "pay"' in x for x in examples)
    await run_rule(db, cluster, r, NOW + timedelta(seconds=30), raised)  # still 5: no repeat
    assert len(raised.events) == 1
    await run_rule(db, cluster, r, NOW + timedelta(minutes=6), raised)  # first clear run
    assert len(raised.events) == 1
    await run_rule(db, cluster, r, NOW + timedelta(minutes=7), raised)  # second: resolved
    assert raised.actions()[-1] == ("log_rule:r:pay", "resolve")


async def test_flatline_fires_when_fewer_than_threshold_and_resolves_when_logs_come_back(opensearch_url, db):
    index = await make_index(
        opensearch_url, [doc(NOW - timedelta(minutes=m), "INFO", "tick") for m in (1, 2, 4)]
    )
    cluster, r = rule(opensearch_url, index, type="flatline", threshold=3, resolve_after=1)
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.events == []  # 3 in 5m: not fewer than 3
    later = NOW + timedelta(minutes=2)  # one of the three left the window
    await run_rule(db, cluster, r, later, raised)
    assert raised.actions() == [("log_rule:r", "trigger")]
    await add(opensearch_url, index, [doc(later - timedelta(seconds=s), "INFO", "tick") for s in (1, 2)])
    await run_rule(db, cluster, r, later, raised)
    assert raised.actions()[-1] == ("log_rule:r", "resolve")


async def test_any_fires_on_one_match_since_the_last_run(opensearch_url, db):
    index = await make_index(opensearch_url, [doc(NOW - timedelta(minutes=5), "FATAL", "disk full")])
    cluster, r = rule(opensearch_url, index, type="any", filter="level:FATAL", interval="1m", resolve_after=1)
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.events == []  # the match is older than one interval
    await add(opensearch_url, index, [doc(NOW + timedelta(seconds=20), "FATAL", "disk full")])
    await run_rule(db, cluster, r, NOW + timedelta(seconds=30), raised)
    assert raised.actions() == [("log_rule:r", "trigger")]
    await run_rule(db, cluster, r, NOW + timedelta(minutes=2), raised)
    assert raised.actions()[-1] == ("log_rule:r", "resolve")
    assert raised.events[0][1].action is AlertAction.TRIGGER


async def test_a_cluster_that_is_down_neither_fires_nor_resolves(db):
    cluster, r = rule("http://127.0.0.1:9", "logs-*", type="flatline", threshold=1)
    raised = Raised()
    run = await run_rule(db, cluster, r, NOW, raised)
    assert run.events == [] and run.error and "unreachable" in run.error
    assert raised.events == []
