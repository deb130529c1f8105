"""Per-integration rate limits and daily quotas: 429 with Retry-After, counted across instances."""

from __future__ import annotations

import asyncio
import math
import os

import pytest

from koban.core.clock import FakeClock
from koban.ingest.limits import LimitGate
from koban.routing.ratelimit import Limits
from tests.ingest import support as s
from tests.support.system import running_system

T0 = 1_800_000_000.0  # a minute boundary (divisible by 60)


def alert(n: int) -> dict:
    return {"summary": f"alert {n}", "dedup_key": f"a{n}"}


async def test_a_request_over_the_per_minute_limit_is_429_with_retry_after_and_stores_nothing(
    db_url, tmp_path
):
    clock = FakeClock(T0 + 45)
    cfg = s.edge_config(limits={"per_minute": 3})
    async with running_system(db_url, cfg, tmp_path, clock=clock) as k, s.client(k) as c:
        h = s.bearer("generic")
        # Three alerts in one request use the whole minute.
        r = await c.post("/api/v1/ingest", json=[alert(n) for n in range(3)], headers=h)
        assert r.status_code == 202 and r.json()["alerts"] == 3, r.text
        r = await c.post("/api/v1/ingest", json=alert(9), headers=h)
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "15" and r.json()["retry_after"] == 15
        # Another integration has its own counters.
        assert (
            await c.post("/api/v1/ingest", json=s.kibana_body(), headers=s.bearer("kibana"))
        ).status_code == 202
        usage = (await c.get("/api/v1/integrations/in-generic/limits")).json()
        assert usage["limits"]["per_minute"] == 3 and usage["usage"][0]["used"] == 3
        clock.advance(15)
        assert (await c.post("/api/v1/ingest", json=alert(9), headers=h)).status_code == 202
        await k.drain.drain_all()  # the kibana delivery waits in the inbox for the worker
        listed = (await c.get("/api/v1/incidents", params={"limit": 500})).json()["incidents"]
        assert sorted(i["summary"] for i in listed) == sorted(
            [*(f"alert {n}" for n in (0, 1, 2, 9)), "Errors in checkout: checkout-api"]
        )


async def test_the_daily_quota_refuses_until_utc_midnight(db_url, tmp_path):
    day_end = math.ceil(T0 / 86400) * 86400
    clock = FakeClock(day_end - 100)
    cfg = s.edge_config(limits={"per_day": 2})
    async with running_system(db_url, cfg, tmp_path, clock=clock) as k, s.client(k) as c:
        h = s.bearer("generic")
        assert (await c.post("/api/v1/ingest", json=alert(1), headers=h)).status_code == 202
        assert (await c.post("/api/v1/ingest", json=alert(2), headers=h)).status_code == 202
        r = await c.post("/api/v1/ingest", json=alert(3), headers=h)
        assert r.status_code == 429 and r.headers["Retry-After"] == "100"
        clock.advance(100)
        assert (await c.post("/api/v1/ingest", json=alert(3), headers=h)).status_code == 202


async def test_limits_in_yaml_are_validated_and_shown_by_the_rest_api(db_url, tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="at least one"):
        s.edge_config(limits={})
    with pytest.raises(ValidationError):
        s.edge_config(limits={"per_minute": 0})
    cfg = s.edge_config(limits={"per_second": 5, "per_day": 1000})
    async with running_system(db_url, cfg, tmp_path) as k, s.client(k) as c:
        svc = (await c.get("/api/v1/services/web")).json()
        assert svc["integrations"][0]["limits"] == {"per_second": 5, "per_minute": None, "per_day": 1000}


def test_the_local_gate_refuses_only_windows_it_has_seen_full():
    gate = LimitGate()
    limits = Limits(per_minute=2)
    assert gate.precheck("web", limits, T0) is None
    gate.full["web:m:30000000"] = T0 + 60
    refused = gate.precheck("web", limits, T0 + 10)
    assert refused is not None and refused.retry_after == 50
    assert gate.precheck("web", limits, T0 + 60) is None  # the next minute is a new window


@pytest.mark.skipif(not os.environ.get("KOBAN_TEST_POSTGRES_URL"), reason="needs PostgreSQL")
async def test_two_instances_on_one_postgres_database_share_the_limit(db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("several instances share a database on PostgreSQL")
    cfg = s.edge_config(limits={"per_minute": 10})
    clock = FakeClock(T0 + 1)
    async with (
        running_system(db_url, cfg, tmp_path / "a", clock=clock, instance_name="a") as ka,
        running_system(db_url, cfg, tmp_path / "b", clock=clock, instance_name="b") as kb,
        s.client(ka) as a,
        s.client(kb) as b,
    ):
        h = s.bearer("generic")
        sends = [(a if n % 2 else b).post("/api/v1/ingest", json=alert(n), headers=h) for n in range(24)]
        codes = [r.status_code for r in await asyncio.gather(*sends)]
        assert codes.count(202) == 10 and codes.count(429) == 14, codes
        # Both instances now refuse without asking the database, and agree on when to retry.
        for c in (a, b):
            r = await c.post("/api/v1/ingest", json=alert(99), headers=h)
            assert r.status_code == 429 and r.headers["Retry-After"] == "59"
        listed = (await a.get("/api/v1/incidents", params={"limit": 500})).json()["incidents"]
        assert len(listed) == 10
