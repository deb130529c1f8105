"""Inbox drains on one database: every accepted delivery is processed exactly once."""

from __future__ import annotations

import asyncio

import orjson
import pytest
import sqlalchemy as sa

from koban.core.clock import FakeClock
from koban.db import schema as t
from koban.db.schema_inbox import ingest_inbox
from koban.ingest.inbox import Delivery
from tests.ingest import support as s
from tests.support.system import running_system

T0 = 1_800_000_000.0


def trigger(key: str) -> bytes:
    body = {
        "event_action": "trigger",
        "dedup_key": key,
        "payload": {"summary": key, "source": "db", "severity": "info"},
    }
    return orjson.dumps(body)


async def test_two_drains_on_postgres_never_process_a_row_twice(db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("several instances share a database on PostgreSQL")
    clock = FakeClock(T0)
    async with (
        running_system(db_url, s.edge_config(), tmp_path / "a", clock=clock, instance_name="a") as a,
        running_system(db_url, s.edge_config(), tmp_path / "b", clock=clock, instance_name="b") as b,
    ):
        keys = [f"k{n}" for n in range(300)]

        # Deliveries keep arriving while both drain, so claims interleave with new rows.
        async def send() -> None:
            for n, key in enumerate(keys):
                await (a if n % 2 else b).inbox.submit(
                    Delivery("in-pagerduty", "pagerduty", T0, 1, trigger(key)), None
                )

        async def drain(k, rounds: int = 400) -> int:
            done = 0
            for _ in range(rounds):
                done += await k.drain.drain_once(limit=7)
                await asyncio.sleep(0)
            return done

        _, da, db = await asyncio.gather(send(), drain(a), drain(b))
        da += await a.drain.drain_all()
        assert da + db == len(keys) and da and db
        async with a.db.read() as conn:
            alerts = (await conn.execute(sa.select(t.alerts.c.dedup_key))).scalars().all()
            incidents = (await conn.execute(sa.select(sa.func.count()).select_from(t.incidents))).scalar()
            left = (await conn.execute(sa.select(sa.func.count()).select_from(ingest_inbox))).scalar()
        assert sorted(alerts) == sorted(keys) and incidents == len(keys) and left == 0


async def test_a_row_the_drain_cannot_process_is_kept_with_its_error_and_the_rest_flows(db_url, tmp_path):
    async with running_system(db_url, s.edge_config(), tmp_path, clock=FakeClock(T0)) as k:
        await k.inbox.submit(Delivery("gone", "pagerduty", T0, 1, trigger("lost?")), None)
        await k.inbox.submit(Delivery("in-pagerduty", "pagerduty", T0, 1, trigger("fine")), None)
        assert await k.drain.drain_all() == 2
        async with k.db.read() as conn:
            kept = (await conn.execute(sa.select(ingest_inbox.c.integration_id, ingest_inbox.c.error))).all()
            keys = (await conn.execute(sa.select(t.alerts.c.dedup_key))).scalars().all()
        assert kept == [("gone", "integration 'gone' no longer exists")]
        assert keys == ["fine"]


async def test_on_postgres_another_instances_drain_is_woken_by_the_commit(db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("several instances share a database on PostgreSQL")
    from koban.core.clock import SystemClock

    async with (
        running_system(
            db_url, s.edge_config(), tmp_path / "edge", clock=SystemClock(), instance_name="edge"
        ) as edge,
        running_system(
            db_url,
            s.edge_config(),
            tmp_path / "w",
            clock=SystemClock(),
            worker=True,
            instance_name="w",
            poll_seconds=30,
        ) as worker,
    ):
        assert worker.listener is not None
        await asyncio.wait_for(worker.listener.connected.wait(), 10)
        await edge.inbox.submit(Delivery("in-pagerduty", "pagerduty", T0, 1, trigger("woken")), None)
        # Polling is 30 s here: only the NOTIFY can make this quick.
        async with asyncio.timeout(5):
            while True:
                async with worker.db.read() as conn:
                    if (await conn.execute(sa.select(t.alerts.c.dedup_key))).scalars().all() == ["woken"]:
                        break
                await asyncio.sleep(0.05)


async def test_a_row_whose_processing_fails_is_isolated_the_rest_flow_and_clearing_requeues_it(
    db_url, tmp_path, monkeypatch
):
    """Issue 17, item 21: the alert rules fail on one row alone (not the database): the batch is
    retried row by row, that row is parked with its error while the rows after it are processed,
    and once a person clears its error it is processed like any other."""
    from koban.ingest import drain as drain_module

    real = drain_module.process_alerts
    broken = {"poison"}

    async def failing_on_poison(uow, catalog, integration_id, events, now, repeats=None):
        if any(e.dedup_key in broken for e in events):
            raise ValueError("a rule cannot handle this alert")
        return await real(uow, catalog, integration_id, events, now, repeats)

    monkeypatch.setattr(drain_module, "process_alerts", failing_on_poison)
    async with running_system(db_url, s.edge_config(), tmp_path, clock=FakeClock(T0)) as k:
        for key in ("before", "poison", "after-1", "after-2"):
            await k.inbox.submit(Delivery("in-pagerduty", "pagerduty", T0, 1, trigger(key)), None)
        await k.drain.drain_all()

        async def state() -> tuple[list, list]:
            async with k.db.read() as conn:
                kept = (await conn.execute(sa.select(ingest_inbox.c.id, ingest_inbox.c.error))).all()
                keys = (await conn.execute(sa.select(t.alerts.c.dedup_key))).scalars().all()
            return kept, sorted(keys)

        kept, keys = await state()
        assert keys == ["after-1", "after-2", "before"]
        [(row_id, error)] = kept
        assert error == "processing failed: ValueError: a rule cannot handle this alert"
        broken.clear()  # the rule is fixed
        assert await k.drain.drain_all() == 0  # a parked row waits for a person
        async with k.db.begin() as conn:
            await conn.execute(sa.update(ingest_inbox).where(ingest_inbox.c.id == row_id).values(error=None))
        assert await k.drain.drain_all() == 1
        assert await state() == ([], ["after-1", "after-2", "before", "poison"])


async def test_trigger_then_resolve_through_two_instances_ends_resolved(db_url, tmp_path):
    """Issue 17, item 21: a sender that gets its 2xx for a trigger from one instance, then sends the
    resolve to another (a load balancer), has them applied in that order, while both instances
    drain: every incident ends resolved. PagerDuty events carry no time of their own, so only the
    order of arrival can decide."""
    if not db_url.startswith("postgresql"):
        pytest.skip("several instances share a database on PostgreSQL")
    clock = FakeClock(T0)
    async with (
        running_system(db_url, s.edge_config(), tmp_path / "a", clock=clock, instance_name="a") as a,
        running_system(db_url, s.edge_config(), tmp_path / "b", clock=clock, instance_name="b") as b,
        s.client(a) as http_a,
        s.client(b) as http_b,
    ):
        keys = [f"k{n}" for n in range(60)]
        sending = True

        async def send() -> None:
            nonlocal sending
            for n, key in enumerate(keys):
                first, second = (http_a, http_b) if n % 2 else (http_b, http_a)
                for http, action in ((first, "trigger"), (second, "resolve")):
                    event = orjson.loads(trigger(key)) | {"event_action": action}
                    resp = await http.post(
                        "/v2/enqueue", json=event | {"routing_key": s.key_for("pagerduty")}
                    )
                    assert resp.status_code == 202, resp.text
            sending = False

        async def drain(k) -> None:
            while sending:
                await k.drain.drain_once(limit=5)
                await asyncio.sleep(0)

        await asyncio.gather(send(), drain(a), drain(b))
        await a.drain.drain_all()
        async with a.db.read() as conn:
            i = t.incidents.c
            rows = (await conn.execute(sa.select(i.incident_key, i.status))).all()
        assert len(rows) == len(keys)
        assert {status for _, status in rows} == {"resolved"}, rows
