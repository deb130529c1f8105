"""A flood of repeats does not delay a new alert: fresh deliveries are claimed first."""

from __future__ import annotations

import orjson
import sqlalchemy as sa

from koban.core.clock import FakeClock
from koban.db import schema as t
from koban.db.schema_inbox import ingest_inbox
from koban.ingest.inbox import Delivery
from koban.ingest.novelty import RecentAlerts
from koban.sources._fields import label_fingerprint
from tests.ingest import support as s
from tests.support.system import running_system

T0 = 1_800_000_000.0


def alerts(*hosts: str) -> list[dict]:
    return [{"labels": {"alertname": "Down", "instance": h}} for h in hosts]


def test_a_delivery_is_fresh_only_while_it_holds_an_alert_not_seen_lately():
    recent = RecentAlerts()
    first = alerts("a", "b")
    assert recent.fresh("prometheus", orjson.dumps(first), first)
    assert not recent.fresh("prometheus", orjson.dumps(first), first)  # the same bytes again
    reordered = alerts("b", "a")
    assert not recent.fresh("prometheus", orjson.dumps(reordered), reordered)  # same alerts
    one_new = alerts("a", "b", "c")
    assert recent.fresh("prometheus", orjson.dumps(one_new), one_new)


def test_sources_ordered_by_arrival_are_never_fresh():
    body = {"event_action": "trigger", "dedup_key": "x", "payload": {"summary": "x"}}
    assert not RecentAlerts().fresh("pagerduty", orjson.dumps(body), body)


def test_a_full_memory_starts_over_and_only_costs_priority():
    recent = RecentAlerts(limit=4)
    for host in "abcd":
        recent.fresh("prometheus", orjson.dumps(alerts(host)), alerts(host))
    assert recent.fresh("prometheus", orjson.dumps(alerts("a")), alerts("a"))  # forgotten: fresh again


async def test_a_new_alert_is_drained_before_a_backlog_of_repeats(db_url, tmp_path):
    clock = FakeClock(T0)
    async with running_system(db_url, s.edge_config(), tmp_path, clock=clock) as k:
        repeat = orjson.dumps(alerts(*(f"old-{n}" for n in range(100))))
        for _ in range(20):  # 2,000 queued repeats: four batches of the oldest
            await k.inbox.submit(Delivery("in-prometheus", "prometheus", clock.now(), 100, repeat), None)
        new = orjson.dumps(alerts("new"))
        await k.inbox.submit(Delivery("in-prometheus", "prometheus", clock.now(), 1, new, fresh=True), None)

        assert await k.drain.drain_once() == 1  # the fresh row alone, first
        async with k.db.read() as conn:
            keys = (await conn.execute(sa.select(t.incidents.c.incident_key))).scalars().all()
            pages = (await conn.execute(sa.select(sa.func.count()).select_from(t.deliveries))).scalar()
            left = (await conn.execute(sa.select(sa.func.sum(ingest_inbox.c.alerts)))).scalar()
        assert keys == [label_fingerprint({"alertname": "Down", "instance": "new"})]
        assert pages and left == 2_000

        assert await k.drain.drain_all() == 20  # then the backlog, nothing lost
        async with k.db.read() as conn:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(t.incidents))).scalar()
        assert count == 101


async def test_fresh_rows_and_the_oldest_take_turns_so_neither_starves(db_url, tmp_path):
    clock = FakeClock(T0)
    async with running_system(db_url, s.edge_config(), tmp_path, clock=clock) as k:
        old = orjson.dumps(alerts(*(f"old-{n}" for n in range(500))))
        await k.inbox.submit(Delivery("in-prometheus", "prometheus", clock.now(), 500, old), None)
        for n in range(3):
            body = orjson.dumps(alerts(*(f"new-{n}-{m}" for m in range(500))))
            await k.inbox.submit(
                Delivery("in-prometheus", "prometheus", clock.now(), 500, body, fresh=True), None
            )
        order = []
        while await k.drain.drain_once():
            async with k.db.read() as conn:
                order.append(
                    (await conn.execute(sa.select(sa.func.count()).select_from(t.incidents))).scalar()
                )
        async with k.db.read() as conn:
            hosts = (await conn.execute(sa.select(t.incidents.c.labels).order_by(t.incidents.c.id))).scalars()
            firsts = [h["instance"] for h in hosts][::500]
        assert firsts == ["new-0-0", "old-0", "new-1-0", "new-2-0"]


async def test_a_one_alert_delivery_is_claimed_before_a_floods_first_fresh_deliveries(db_url, tmp_path):
    # A flood's first deliveries are fresh too (all 100 alerts new to the edge): FIFO among fresh
    # rows left a new alert behind all of them (issue 18: seconds on PostgreSQL).
    clock = FakeClock(T0)
    async with running_system(db_url, s.edge_config(), tmp_path, clock=clock) as k:
        for n in range(6):
            body = orjson.dumps(alerts(*(f"flood-{n}-{m}" for m in range(100))))
            await k.inbox.submit(
                Delivery("in-prometheus", "prometheus", clock.now(), 100, body, fresh=True), None
            )
        new = orjson.dumps(alerts("new"))
        await k.inbox.submit(Delivery("in-prometheus", "prometheus", clock.now(), 1, new, fresh=True), None)

        await k.drain.drain_once()  # the one-alert row, with what fits beside it of the cheapest
        async with k.db.read() as conn:
            keys = set((await conn.execute(sa.select(t.incidents.c.incident_key))).scalars())
            left = (await conn.execute(sa.select(sa.func.sum(ingest_inbox.c.alerts)))).scalar()
        assert label_fingerprint({"alertname": "Down", "instance": "new"}) in keys
        assert left >= 500  # most of the flood's rows, which arrived before it, still wait

        await k.drain.drain_all()  # then the flood's, nothing lost
        async with k.db.read() as conn:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(t.incidents))).scalar()
        assert count == 601


async def test_the_edge_marks_a_prometheus_delivery_with_a_new_alert_fresh(db_url, tmp_path):
    async with running_system(db_url, s.edge_config(), tmp_path, clock=FakeClock(T0)) as k, s.client(k) as c:
        for body in (alerts("a"), alerts("a"), alerts("a", "b")):
            r = await c.post("/api/v2/alerts", json=body, headers=s.bearer("prometheus"))
            assert r.status_code == 202
        async with k.db.read() as conn:
            marks = (
                (await conn.execute(sa.select(ingest_inbox.c.fresh).order_by(ingest_inbox.c.id)))
                .scalars()
                .all()
            )
        assert marks == [True, False, True]
