"""Seed 004 on real databases: duplicated, batched, racing and reordered deliveries each end in
exactly one correct incident state."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koban.core.clock import FakeClock
from koban.db import schema as t
from tests.support.factories import make_alert, make_config
from tests.support.system import running_system

T0 = 1_800_000_000.0 - 100  # the events happened before the fake clock's receipt time


def when(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


def trigger(key: str = "disk-full", t: float = 0.0, **kw):
    return make_alert(key, occurred_at=when(t), **kw)


def resolve(key: str = "disk-full", t: float = 10.0, **kw):
    return make_alert(key, action="resolve", occurred_at=when(t), ends_at=when(t), **kw)


async def incidents(k) -> list[tuple[str, str]]:
    async with k.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.incidents.c.incident_key, t.incidents.c.status).order_by(t.incidents.c.id)
        )
        return [tuple(r) for r in rows]


async def test_the_same_delivery_twice_is_one_incident(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        first = await k.batcher.submit("web-generic", [trigger()])
        second = await k.batcher.submit("web-generic", [trigger()])
        assert first[0].created and not second[0].created
        assert second[0].incident_id == first[0].incident_id
        assert await incidents(k) == [("disk-full", "triggered")]


async def test_a_batch_that_repeats_an_alert_opens_one_incident(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        out = await k.batcher.submit("web-generic", [trigger(), trigger("other"), trigger()])
        assert out[0].incident_id == out[2].incident_id != out[1].incident_id
        assert sorted(await incidents(k)) == [("disk-full", "triggered"), ("other", "triggered")]


async def test_resolve_before_its_trigger_leaves_no_open_incident_and_pages_nobody(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        [early] = await k.batcher.submit("web-generic", [resolve(t=10)])
        assert early.incident_id is None and "no open incident" in (early.ignored or "")
        [late] = await k.batcher.submit("web-generic", [trigger(t=0)])
        assert late.incident_id is None and "resolved at" in (late.ignored or "")
        assert await incidents(k) == []
        async with k.db.read() as conn:
            muted = (
                (await conn.execute(sa.select(t.alerts.c.muted_reason).order_by(t.alerts.c.id)))
                .scalars()
                .all()
            )
        assert len(muted) == 2 and "stale trigger" in muted[1]
        [fresh] = await k.batcher.submit("web-generic", [trigger(t=20)])
        assert fresh.created  # a newer firing is a new problem


async def test_late_duplicate_trigger_after_the_resolve_does_not_reopen(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        await k.batcher.submit("web-generic", [trigger(t=0)])
        [closed] = await k.batcher.submit("web-generic", [resolve(t=10)])
        assert closed.status == "resolved"
        [dup] = await k.batcher.submit("web-generic", [trigger(t=0)])
        assert dup.incident_id is None
        assert await incidents(k) == [("disk-full", "resolved")]


async def test_two_systems_racing_the_same_deliveries_make_one_incident(db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("two systems writing at once is the PostgreSQL deployment")
    cfg = make_config()
    async with (
        running_system(db_url, cfg, tmp_path / "a", clock=FakeClock(T0)) as a,
        running_system(db_url, cfg, tmp_path / "b", clock=FakeClock(T0)) as b,
    ):
        batch = [trigger(), trigger("x"), trigger("y")]
        results = await asyncio.gather(*(k.batcher.submit("web-generic", list(batch)) for k in (a, b, a, b)))
        assert sorted(await incidents(a)) == [
            ("disk-full", "triggered"),
            ("x", "triggered"),
            ("y", "triggered"),
        ]
        assert sum(o.created for r in results for o in r) == 3
        await asyncio.gather(
            a.batcher.submit("web-generic", [resolve(), trigger(t=0)]),
            b.batcher.submit("web-generic", [trigger(t=0), resolve()]),
        )
        assert ("disk-full", "resolved") in await incidents(a)
        assert [s for key, s in await incidents(a) if key == "disk-full"] == ["resolved"]


EVENTS = [trigger(t=0), trigger(t=0), resolve(t=10), trigger(t=20), resolve(t=5), trigger("b", t=3)]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(list(range(len(EVENTS)))), split=st.integers(1, len(EVENTS)))
async def test_any_delivery_order_ends_in_the_same_open_incidents(db_url, tmp_path_factory, order, split):
    if db_url.startswith("postgresql"):
        pytest.skip("one database serves every example here; the race test covers PostgreSQL")
    async with running_system(db_url, make_config(), tmp_path_factory.mktemp("k")) as k:
        shuffled = [EVENTS[i] for i in order]
        await k.batcher.submit("web-generic", shuffled[:split])
        if shuffled[split:]:
            await k.batcher.submit("web-generic", shuffled[split:])
        open_now = sorted(key for key, status in await incidents(k) if status != "resolved")
        assert open_now == ["b", "disk-full"]


async def timeline(k, incident_id: int) -> list[tuple[str, dict]]:
    async with k.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.timeline.c.kind, t.timeline.c.data)
            .where(t.timeline.c.incident_id == incident_id)
            .order_by(t.timeline.c.id)
        )
        return [(r.kind, r.data) for r in rows]


async def test_a_stale_resolve_is_on_the_incident_timeline_with_its_reason(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        [opened] = await k.batcher.submit("web-generic", [trigger(t=20)])
        [stale] = await k.batcher.submit("web-generic", [resolve(t=10)])
        assert stale.ignored and "stale resolve" in stale.ignored
        ignored = [data for kind, data in await timeline(k, opened.incident_id) if kind == "alert.ignored"]
        assert ignored == [{"dedup_key": "disk-full", "action": "resolve", "reason": stale.ignored}]


async def test_a_trigger_stamped_ahead_of_receipt_does_not_keep_the_incident_open(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        now = k.clock.now()
        ahead = datetime.fromtimestamp(now + 3600, UTC)  # amtool --end=+1h: startsAt set to the end
        [opened] = await k.batcher.submit("web-generic", [make_alert("disk-full", occurred_at=ahead)])
        k.clock.advance(60)
        done = datetime.fromtimestamp(now + 59, UTC)
        [closed] = await k.batcher.submit(
            "web-generic", [make_alert("disk-full", action="resolve", occurred_at=done, ends_at=done)]
        )
        assert closed.incident_id == opened.incident_id and closed.status == "resolved"
