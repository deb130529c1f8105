"""koban with the real Debian Prometheus and Alertmanager, on loopback.

A Prometheus rule (``up == 0`` on a target the test breaks and mends) fires through Alertmanager's
webhook into an incident, and the recovery resolves it; then the same with Prometheus sending
straight to koban's ``/api/v2/alerts`` (koban as its Alertmanager). Intervals are 1 s so each
test ends in well under a minute. KOBAN_REQUIRE_PEERS=1 turns a missing peer into a failure.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import sqlalchemy as sa

from koban.core.clock import SystemClock
from koban.db import schema as t
from koban.testing.configs import AlertmanagerTarget
from tests.ingest import support as s
from tests.interop.conftest import Target, serve_koban
from tests.support.admin import provision
from tests.support.peers import peer_binary, run_alertmanager, run_prometheus
from tests.support.system import running_system

RULE = {
    "alert": "TargetDown",
    "expr": 'up{job="interop"} == 0',
    "for": "1s",
    "labels": {"severity": "critical"},
}


def scrape(target: Target) -> dict[str, Any]:
    return {"job_name": "interop", "static_configs": [{"targets": [target.address]}]}


async def wait_for_incident(url: str, token: str, status: str, within: float = 40) -> dict[str, Any]:
    seen: list[Any] = []
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
        try:
            async with asyncio.timeout(within):
                while True:
                    seen = (await c.get("/api/v1/incidents")).json()["incidents"]
                    if seen and seen[0]["status"] == status:
                        return seen[0]
                    await asyncio.sleep(0.25)
        except TimeoutError:
            raise AssertionError(f"no {status} incident within {within}s; incidents: {seen}") from None


async def test_rule_fires_through_alertmanager_webhook_and_recovery_resolves(db_url, tmp_path):
    am_bin, prom_bin = peer_binary("alertmanager"), peer_binary("prometheus")
    async with (
        running_system(db_url, s.edge_config(), tmp_path, clock=SystemClock(), worker=True) as k,
        serve_koban(k) as koban,
        Target().running() as target,
        run_alertmanager(
            tmp_path, webhook_url=f"{koban}/api/v1/ingest/{s.key_for('alertmanager')}", binary=am_bin
        ) as am,
        run_prometheus(
            tmp_path,
            rules=[{"name": "interop", "rules": [RULE]}],
            alertmanagers=[am.url],
            scrape_configs=[scrape(target)],
            resend_delay=1,
            binary=prom_bin,
        ),
    ):
        target.healthy = False
        opened = await wait_for_incident(koban, await provision(k.db, k.clock.now()), "triggered")
        assert opened["severity"] == "critical" and "TargetDown" in opened["summary"]
        target.healthy = True
        resolved = await wait_for_incident(koban, await provision(k.db, k.clock.now()), "resolved")
        assert resolved["id"] == opened["id"]


async def test_prometheus_sends_straight_to_koban_as_its_alertmanager(db_url, tmp_path):
    async with (
        running_system(db_url, s.edge_config(), tmp_path, clock=SystemClock(), worker=True) as k,
        serve_koban(k) as koban,
        Target().running() as target,
        run_prometheus(
            tmp_path,
            rules=[{"name": "interop", "rules": [RULE]}],
            alertmanagers=[AlertmanagerTarget(koban, bearer_token=s.key_for("prometheus"))],
            scrape_configs=[scrape(target)],
            resend_delay=1,
            binary=peer_binary("prometheus"),
        ),
    ):
        target.healthy = False
        opened = await wait_for_incident(koban, await provision(k.db, k.clock.now()), "triggered")
        assert "TargetDown" in opened["summary"]
        target.healthy = True
        resolved = await wait_for_incident(koban, await provision(k.db, k.clock.now()), "resolved")
        assert resolved["id"] == opened["id"]


async def test_the_same_alert_sent_straight_and_relayed_by_alertmanager_is_one_incident(db_url, tmp_path):
    # docs/integrations/prometheus.md: the direct path dedups with the same alert relayed.
    am_bin, prom_bin = peer_binary("alertmanager"), peer_binary("prometheus")
    async with (
        running_system(db_url, s.edge_config(), tmp_path, clock=SystemClock(), worker=True) as k,
        serve_koban(k) as koban,
        Target().running() as target,
        run_alertmanager(
            tmp_path, webhook_url=f"{koban}/api/v1/ingest/{s.key_for('alertmanager')}", binary=am_bin
        ) as am,
        run_prometheus(
            tmp_path,
            rules=[{"name": "interop", "rules": [RULE]}],
            alertmanagers=[am.url, AlertmanagerTarget(koban, bearer_token=s.key_for("prometheus"))],
            scrape_configs=[scrape(target)],
            resend_delay=1,
            binary=prom_bin,
        ),
    ):
        token = await provision(k.db, k.clock.now())
        target.healthy = False
        opened = await wait_for_incident(koban, token, "triggered")
        for _ in range(80):  # until both paths have delivered the alert
            async with k.db.read() as conn:
                paths = set((await conn.execute(sa.select(t.alerts.c.integration_id).distinct())).scalars())
            if {"in-alertmanager", "in-prometheus"} <= paths:
                break
            await asyncio.sleep(0.5)
        assert {"in-alertmanager", "in-prometheus"} <= paths
        async with httpx.AsyncClient(base_url=koban, headers={"Authorization": f"Bearer {token}"}) as c:
            seen = (await c.get("/api/v1/incidents")).json()["incidents"]
        assert [i["id"] for i in seen] == [opened["id"]], seen
        target.healthy = True
        resolved = await wait_for_incident(koban, token, "resolved")
        assert resolved["id"] == opened["id"]
