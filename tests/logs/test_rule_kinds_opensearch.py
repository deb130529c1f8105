"""percentage_match, change, a compound query_key, and a rule whose type changes, on a real OpenSearch:
each fires on data made to cross its threshold, stays quiet on data that does not, and resolves."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from koban.db.schema_logs import log_rule_state
from koban.logs.rule_runner import run_rule
from koban.logs.rules import shape_of
from tests.logs.factories import add, doc, make_index
from tests.logs.test_rules_opensearch import NOW, Raised, rule

MIN = timedelta(minutes=1)


def share(service: str, errors: int, total: int) -> list[dict]:
    return [
        doc(NOW - MIN - timedelta(seconds=i), "ERROR" if i < errors else "INFO", "m", service=service)
        for i in range(total)
    ]


async def test_percentage_match_fires_per_key_above_max_and_not_below_its_denominator(opensearch_url, db):
    index = await make_index(opensearch_url, share("pay", 6, 8) + share("web", 1, 8) + share("tiny", 3, 3))
    cluster, r = rule(
        opensearch_url, index, type="percentage_match", match_bucket_filter="level:ERROR",
        max_percentage=50, min_denominator=5, query_key="service", resolve_after=1,
    )  # fmt: skip
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    # pay: 75% of 8; web: 12.5%; tiny: 100%, but 3 documents are too few to judge
    assert raised.actions() == [("log_rule:r:pay", "trigger")]
    assert "75.0% of 8 log entries match in 300s (alerts above 50%)" in raised.events[0][1].summary
    await run_rule(db, cluster, r, NOW + 10 * MIN, raised)  # nothing in the window: resolved
    assert raised.actions()[-1] == ("log_rule:r:pay", "resolve")


async def test_percentage_match_below_min_with_query_dsl(opensearch_url, db):
    index = await make_index(opensearch_url, share("pay", 1, 10))
    cluster, r = rule(
        opensearch_url, index, type="percentage_match", match_bucket_filter={"term": {"level": "INFO"}},
        min_percentage=95,
    )  # fmt: skip
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.actions() == [("log_rule:r", "trigger")]  # 90% INFO, under 95%


async def test_a_compound_query_key_splits_per_combination_of_values(opensearch_url, db):
    def logins(service: str, user: str, n: int) -> list[dict]:
        return [
            doc(NOW - MIN - timedelta(seconds=i), "ERROR", "e", service=service, user=user) for i in range(n)
        ]

    index = await make_index(
        opensearch_url, logins("pay", "ann", 3) + logins("pay", "bob", 2) + logins("web", "ann", 3)
    )
    cluster, r = rule(opensearch_url, index, type="frequency", num_events=3, query_key=["service", "user"])
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    keys = {e.dedup_key: e for _, e in raised.events}
    assert set(keys) == {'log_rule:r:["pay", "ann"]', 'log_rule:r:["web", "ann"]'}
    pay = keys['log_rule:r:["pay", "ann"]']
    assert pay.labels["service"] == "pay" and pay.labels["user"] == "ann"
    assert pay.summary.endswith("for service=pay, user=ann")


async def test_change_fires_when_a_keys_value_differs_from_the_last_one_seen(opensearch_url, db):
    first = [
        doc(NOW - 30 * timedelta(seconds=1), "INFO", "login", service=s, user="ann") for s in ("pay", "web")
    ]
    index = await make_index(opensearch_url, first)
    cluster, r = rule(
        opensearch_url, index, type="change", compare_key="user", query_key="service", interval="1m",
        resolve_after=1,
    )  # fmt: skip
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.events == []  # the first value seen is no change
    await add(
        opensearch_url,
        index,
        [doc(NOW + 30 * timedelta(seconds=1), "INFO", "login", service="pay", user="bob")],
    )
    await add(
        opensearch_url,
        index,
        [doc(NOW + 40 * timedelta(seconds=1), "INFO", "login", service="web", user="ann")],
    )
    await run_rule(db, cluster, r, NOW + MIN, raised)
    assert raised.actions() == [("log_rule:r:pay", "trigger")]
    assert "user changed from ann to bob" in raised.events[0][1].summary
    await run_rule(db, cluster, r, NOW + 2 * MIN, raised)  # no new value: resolved
    assert raised.actions()[-1] == ("log_rule:r:pay", "resolve")
    await add(
        opensearch_url,
        index,
        [doc(NOW + 2 * MIN + 10 * timedelta(seconds=1), "INFO", "x", service="pay", user="bob")],
    )
    await run_rule(db, cluster, r, NOW + 3 * MIN, raised)  # bob again: the value it had
    assert len(raised.events) == 2


async def test_a_rule_whose_type_changes_resolves_what_it_left_firing_and_starts_afresh(opensearch_url, db):
    errors = [doc(NOW - MIN - timedelta(seconds=i), "ERROR", "boom", service="pay") for i in range(5)]
    index = await make_index(opensearch_url, errors)
    cluster, r = rule(opensearch_url, index, type="frequency", num_events=5, query_key="service")
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.actions() == [("log_rule:r:pay", "trigger")]
    # config apply: the same rule id, now a flatline over the whole index
    flat = r.model_copy(update={"type": "flatline", "threshold": 100, "query_key": None})
    await run_rule(db, cluster, flat, NOW + MIN, raised)
    assert raised.actions()[1:] == [("log_rule:r:pay", "resolve"), ("log_rule:r", "trigger")]
    assert "the rule changed (now flatline)" in raised.events[1][1].summary
    async with db.read() as conn:
        rows = (await conn.execute(sa.select(log_rule_state.c.key_value, log_rule_state.c.shape))).all()
    assert [tuple(x) for x in rows] == [("", shape_of(flat))]
    await run_rule(db, cluster, flat, NOW + 2 * MIN, raised)  # same shape now: no restart, no repeat
    assert len(raised.events) == 3


async def test_config_apply_changing_a_rules_type_resolves_its_incident_through_the_worker(
    opensearch_url, db_url, tmp_path
):
    from koban.catalog.apply import apply_config
    from koban.core.clock import FakeClock
    from tests.logs.test_worker_opensearch import incidents, with_logs
    from tests.support.system import running_system

    errors = [doc(NOW - MIN - timedelta(seconds=i), "ERROR", "boom", service="pay") for i in range(5)]
    index = await make_index(opensearch_url, errors)
    before = {"id": "pay", "cluster": "local", "service": "web", "type": "frequency", "index": index,
              "num_events": 5, "timeframe": "5m", "interval": "10s", "query_key": "service"}  # fmt: skip
    clock = FakeClock(NOW.timestamp())
    async with running_system(
        db_url, with_logs(opensearch_url, log_rules=[before]), tmp_path, clock=clock
    ) as k:
        await k.logs.tick()
        assert [(key, st) for _, key, st in await incidents(k)] == [("log_rule:pay:pay", "triggered")]
        after = before | {
            "type": "percentage_match",
            "match_bucket_filter": "level:FATAL",
            "min_percentage": 1,
        }
        async with k.db.begin() as conn:
            await apply_config(conn, with_logs(opensearch_url, log_rules=[after]), clock.now())
        await k.refresh_catalog(force=True)
        clock.advance(10)
        await k.logs.tick()
        # the frequency alert is resolved at once; the new type judges afresh (0% FATAL: below 1%)
        assert [(key, st) for _, key, st in await incidents(k)] == [
            ("log_rule:pay:pay", "resolved"),
            ("log_rule:pay:pay", "triggered"),
        ]
