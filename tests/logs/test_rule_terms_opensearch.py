"""new_term with several fields (each apart, and a composite of two) and change's timeframe, on a real
OpenSearch: each fires on data made to be new or to change in time, and stays quiet otherwise."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from koban.db.schema_logs import log_rule_state
from koban.logs.rule_runner import run_rule
from tests.logs.factories import add, doc, make_index
from tests.logs.test_rules_opensearch import NOW, Raised, rule

MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)


def login(at, user: str, service: str, port: int | None = None) -> dict:
    return doc(at, "INFO", "login", service=service, user=user, **({"port": port} if port else {}))


async def test_new_term_watches_each_field_apart_and_a_composite_entry_as_one_term(opensearch_url, db):
    history = [
        login(NOW - timedelta(days=d), u, s, p)
        for d in (3, 10)
        for u, s, p in (("ann", "pay", 443), ("bob", "web", 80))
    ]
    # bob is known, and so are pay and 443 apart; the pair (web, 443) is new; no port: no pair
    recent = [login(NOW - MIN, "bob", "web", 443), login(NOW - MIN, "ann", "shop")]
    index = await make_index(opensearch_url, history + recent)
    cluster, r = rule(
        opensearch_url, index, type="new_term", fields=["user", ["service", "port"]], resolve_after=1
    )
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.actions() == [('log_rule:r:{"service": "web", "port": "443"}', "trigger")]
    event = raised.events[0][1]
    assert (event.labels["service"], event.labels["port"]) == ("web", "443")
    assert "new (service, port) first seen at" in event.summary
    assert event.summary.endswith("for service=web, port=443")

    await add(opensearch_url, index, [login(NOW + MIN, "eve", "pay", 443)])  # a new user, a known pair
    await run_rule(db, cluster, r, NOW + 2 * MIN, raised)
    assert raised.actions()[1:] == [('log_rule:r:{"user": "eve"}', "trigger")]
    assert raised.events[1][1].labels["user"] == "eve"
    await run_rule(db, cluster, r, NOW + 10 * MIN, raised)  # neither is new any more: both resolve
    assert sorted(raised.actions()[2:]) == [
        ('log_rule:r:{"service": "web", "port": "443"}', "resolve"),
        ('log_rule:r:{"user": "eve"}', "resolve"),
    ]


async def test_change_counts_only_when_the_previous_value_was_seen_within_the_timeframe(opensearch_url, db):
    first = [login(NOW - 30 * SEC, "ann", s) for s in ("pay", "web")]
    index = await make_index(opensearch_url, first)
    cluster, r = rule(
        opensearch_url, index, type="change", compare_key="user", query_key="service", interval="1m",
        timeframe="2m", resolve_after=1,
    )  # fmt: skip
    raised = Raised()
    await run_rule(db, cluster, r, NOW, raised)
    assert raised.events == []
    await add(opensearch_url, index, [login(NOW + 30 * SEC, "bob", "pay")])  # ann a minute before
    await run_rule(db, cluster, r, NOW + MIN, raised)
    assert raised.actions() == [("log_rule:r:pay", "trigger")]
    assert "user changed from ann to bob" in raised.events[0][1].summary
    for m in range(2, 6):  # quiet minutes: pay resolves, web keeps ann and when it was seen
        await run_rule(db, cluster, r, NOW + m * MIN, raised)
    assert raised.actions()[1:] == [("log_rule:r:pay", "resolve")]

    await add(opensearch_url, index, [login(NOW + 5 * MIN + 30 * SEC, "bob", "web")])  # ann 6 minutes before
    await run_rule(db, cluster, r, NOW + 6 * MIN, raised)
    assert len(raised.events) == 2  # too long after ann: not a change, but bob is now web's value
    await add(opensearch_url, index, [login(NOW + 6 * MIN + 30 * SEC, "carol", "web")])  # bob a minute before
    await run_rule(db, cluster, r, NOW + 7 * MIN, raised)
    assert raised.actions()[2:] == [("log_rule:r:web", "trigger")]
    assert "user changed from bob to carol" in raised.events[2][1].summary
    async with db.read() as conn:
        rows = (
            await conn.execute(
                sa.select(log_rule_state.c.last_value, log_rule_state.c.last_seen).where(
                    log_rule_state.c.key_value == "web"
                )
            )
        ).all()
    assert [tuple(x) for x in rows] == [("carol", (NOW + 6 * MIN + 30 * SEC).timestamp())]
