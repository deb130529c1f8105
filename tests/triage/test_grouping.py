"""Grouping single alerts into one incident per group, with Alertmanager's timers, persisted."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from koban.core.clock import FakeClock
from koban.db import schema as t
from tests.support.factories import make_alert, make_config
from tests.support.system import drain, running_system

GROUPING = {"group_by": ["cluster"], "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}


def alert(key: str, cluster: str = "eu", **kw):
    return make_alert(key, labels={"cluster": cluster, "alertname": key}, **kw)


async def incidents(k) -> list[dict]:
    async with k.db.read() as conn:
        rows = await conn.execute(sa.select(t.incidents).order_by(t.incidents.c.id))
        return [dict(r._mapping) for r in rows]


async def test_alerts_wait_group_wait_then_open_one_incident_per_group(db_url, tmp_path):
    async with running_system(db_url, make_config(grouping=GROUPING), tmp_path) as k:
        out = await k.batcher.submit("web-generic", [alert("disk"), alert("cpu"), alert("mem", cluster="us")])
        assert [o.status for o in out] == ["grouped"] * 3
        assert await incidents(k) == []
        k.clock.advance(31)
        await drain(k)
        rows = await incidents(k)
        assert len(rows) == 2
        eu = next(r for r in rows if 'cluster="eu"' in r["incident_key"])
        assert eu["members"] == {"disk": "firing", "cpu": "firing"}


async def test_a_new_member_waits_for_the_next_group_interval_tick(db_url, tmp_path):
    async with running_system(db_url, make_config(grouping=GROUPING), tmp_path) as k:
        await k.batcher.submit("web-generic", [alert("disk")])
        k.clock.advance(31)
        await drain(k)
        k.clock.advance(60)
        await k.batcher.submit("web-generic", [alert("cpu")])
        await drain(k)
        assert (await incidents(k))[0]["members"] == {"disk": "firing"}
        k.clock.advance(300)
        await drain(k)
        [row] = await incidents(k)
        assert row["members"] == {"disk": "firing", "cpu": "firing"}


async def test_group_resolves_its_incident_when_every_member_resolved(db_url, tmp_path):
    async with running_system(db_url, make_config(grouping=GROUPING), tmp_path) as k:
        await k.batcher.submit("web-generic", [alert("disk"), alert("cpu")])
        k.clock.advance(31)
        await drain(k)
        await k.batcher.submit(
            "web-generic", [alert("disk", action="resolve"), alert("cpu", action="resolve")]
        )
        k.clock.advance(300)
        await drain(k)
        [row] = await incidents(k)
        assert row["status"] == "resolved"


async def test_alert_resolved_within_group_wait_opens_nothing(db_url, tmp_path):
    async with running_system(db_url, make_config(grouping=GROUPING), tmp_path) as k:
        await k.batcher.submit("web-generic", [alert("disk")])
        k.clock.advance(5)
        await k.batcher.submit("web-generic", [alert("disk", action="resolve")])
        k.clock.advance(60)
        await drain(k)
        assert await incidents(k) == []


async def test_old_alert_flushes_at_once(db_url, tmp_path):
    async with running_system(db_url, make_config(grouping=GROUPING), tmp_path) as k:
        old = datetime.fromtimestamp(k.clock.now() - 600, UTC)
        [out] = await k.batcher.submit("web-generic", [alert("disk", occurred_at=old)])
        assert out.status == "grouped"
        assert len(await incidents(k)) == 1


async def test_groups_survive_a_restart_and_another_instance_flushes_them(db_url, tmp_path):
    cfg = make_config(grouping=GROUPING)
    clock = FakeClock()
    async with running_system(db_url, cfg, tmp_path / "a", clock=clock) as k:
        await k.batcher.submit("web-generic", [alert("disk")])
    clock.advance(31)
    async with running_system(db_url, cfg, tmp_path / "b", clock=clock) as k2:
        await drain(k2)
        assert len(await incidents(k2)) == 1


async def test_route_grouping_overrides_the_service_grouping(db_url, tmp_path):
    routes = [{"match": {"severity": "warning"}, "policy": "default", "grouping": {"group_wait": "0s"}}]
    async with running_system(db_url, make_config(grouping=GROUPING, routes=routes), tmp_path) as k:
        await k.batcher.submit("web-generic", [alert("disk", severity="warning")])
        await drain(k)
        assert len(await incidents(k)) == 1
