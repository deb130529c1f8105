"""A flood's repeats collapse in the drain: one alert row and one update for many deliveries."""

from __future__ import annotations

import orjson
import sqlalchemy as sa

from koban.core.clock import FakeClock
from koban.db import schema as t
from koban.ingest.inbox import Delivery
from tests.ingest import support as s
from tests.support.system import running_system

T0 = 1_800_000_000.0


def alerts(*hosts: str, ends: str | None = None) -> bytes:
    times = {"startsAt": "2027-01-15T07:59:00Z", "endsAt": ends} if ends else {}
    return orjson.dumps([{"labels": {"alertname": "Down", "instance": h}} | times for h in hosts])


async def _stored(k) -> tuple[list, list]:
    async with k.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.alerts.c.dedup_key, t.alerts.c.repeats, t.alerts.c.muted_reason).order_by(
                t.alerts.c.id
            )
        )
        counts = await conn.execute(sa.select(t.incidents.c.alert_count).order_by(t.incidents.c.id))
        return [tuple(r) for r in rows], list(counts.scalars())


async def test_the_same_body_sent_again_and_again_is_one_alert_row_per_alert_with_its_repeats(
    db_url, tmp_path
):
    clock = FakeClock(T0)
    async with running_system(db_url, s.edge_config(), tmp_path, clock=clock) as k:
        for _ in range(50):
            await k.inbox.submit(
                Delivery("in-prometheus", "prometheus", clock.now(), 2, alerts("a", "b")), None
            )
            clock.advance(1)
        assert await k.drain.drain_once(100) == 50
        rows, counts = await _stored(k)
    # The first delivery opens each incident; the 49 after it are one row each, counted.
    assert [r[1] for r in rows] == [1, 49, 1, 49]
    assert counts == [50, 50]


async def test_repeats_of_a_body_do_not_jump_another_body_touching_the_same_alert(db_url, tmp_path):
    clock = FakeClock(T0)
    async with running_system(db_url, s.edge_config(), tmp_path, clock=clock) as k:
        resolve = alerts("a", ends="2027-01-15T08:00:01Z")  # at the second delivery: a resolve
        for body in (alerts("a"), alerts("a"), resolve, alerts("a"), alerts("a")):
            await k.inbox.submit(Delivery("in-prometheus", "prometheus", clock.now(), 1, body), None)
            clock.advance(1)
        await k.drain.drain_once(100)
        async with k.db.read() as conn:
            statuses = (
                await conn.execute(
                    sa.select(t.incidents.c.status, t.incidents.c.alert_count).order_by(t.incidents.c.id)
                )
            ).all()
    # Open, repeat, resolved; then a new incident and its repeat: as one by one.
    assert [tuple(r) for r in statuses] == [("resolved", 2), ("triggered", 2)]


async def test_pagerduty_retries_of_one_dedup_key_collapse_too(db_url, tmp_path):
    clock = FakeClock(T0)
    body = orjson.dumps(
        {
            "event_action": "trigger",
            "dedup_key": "db",
            "payload": {"summary": "db down", "source": "db", "severity": "critical"},
        }
    )
    async with running_system(db_url, s.edge_config(), tmp_path, clock=clock) as k:
        for _ in range(20):
            await k.inbox.submit(Delivery("in-pagerduty", "pagerduty", clock.now(), 1, body), None)
        assert await k.drain.drain_once(100) == 20
        rows, counts = await _stored(k)
    assert [r[1] for r in rows] == [1, 19]
    assert counts == [20]
