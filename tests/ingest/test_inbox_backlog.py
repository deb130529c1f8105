"""A bounded inbox: past its size or age every queued source gets 429 with Retry-After in its own
shape, nothing already accepted is lost, and /metrics shows the backlog and its age."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from koban.core.clock import FakeClock
from koban.db import schema as t
from koban.db.schema_inbox import ingest_inbox
from koban.ingest.backlog import refusal
from koban.ingest.pagerduty import THROTTLED
from tests.ingest import support as s
from tests.support.system import running_system

T0 = 1_800_000_000.0

# Each queued source as its senders post it: (path, body, headers).
QUEUED: dict[str, tuple[str, Any, dict[str, str]]] = {
    "alertmanager": (
        "/api/v1/ingest",
        s.sample("alertmanager-webhook-prometheus-firing.json"),
        s.bearer("alertmanager"),
    ),
    "prometheus": ("/api/v2/alerts", [{"labels": {"alertname": "Down"}}], s.bearer("prometheus")),
    "grafana": ("/api/v1/ingest", s.grafana_body(), s.bearer("grafana")),
    "kibana": ("/api/v1/ingest", s.kibana_body(), s.bearer("kibana")),
    "zabbix": ("/api/v1/ingest", s.zabbix_body(), s.bearer("zabbix")),
    "pagerduty": ("/v2/enqueue", s.pagerduty_body(), {}),
}


def test_the_backlog_refuses_past_its_size_or_age_and_not_before():
    assert refusal(9, T0, T0, max_rows=10, max_age=60) is None
    full = refusal(10, T0, T0, max_rows=10, max_age=60)
    assert full is not None and full.retry_after >= 1 and "10 deliveries waiting" in full.reason
    assert refusal(1, T0 - 59, T0, max_rows=10, max_age=60) is None
    late = refusal(1, T0 - 90, T0, max_rows=10, max_age=60)
    assert late is not None and late.retry_after >= 30  # about as long as it is behind
    assert refusal(10**9, T0 - 10**6, T0, max_rows=0, max_age=0) is None  # both limits off


async def _waiting(k: Any) -> int:
    async with k.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(ingest_inbox))).scalar()


async def test_past_the_size_limit_each_source_gets_429_in_its_shape_and_nothing_accepted_is_lost(
    db_url, tmp_path
):
    clock = FakeClock(T0)
    async with (
        running_system(db_url, s.edge_config(), tmp_path, clock=clock, ingest_max_backlog_rows=2) as k,
        s.client(k) as c,
    ):
        for kind in ("zabbix", "pagerduty"):  # two accepted deliveries fill the inbox
            path, body, headers = QUEUED[kind]
            assert (await c.post(path, json=body, headers=headers)).status_code == 202
        await k.inbox.backlog.refresh()

        for kind, (path, body, headers) in QUEUED.items():
            r = await c.post(path, json=body, headers=headers)
            assert r.status_code == 429, (kind, r.text)
            assert int(r.headers["Retry-After"]) >= 1
            if kind == "pagerduty":  # PagerDuty's clients read its throttle answer
                assert r.json() == THROTTLED
            else:  # koban's one error shape (Alertmanager and Prometheus only read the status)
                assert "backlog" in r.json()["detail"] and r.json()["retry_after"] >= 1
        assert await _waiting(k) == 2  # refused deliveries stored nothing; accepted ones stay

        # Generic JSON is answered with its incidents, written before the 2xx: it queues nothing.
        r = await c.post("/api/v1/ingest", json=s.generic_body(), headers=s.bearer("generic"))
        assert r.status_code == 202 and r.json()["incidents"][0]["incident_id"]

        metrics = (await c.get("/metrics")).text
        assert "koban_ingest_backlog_rows 2.0" in metrics
        assert 'koban_alerts_rejected_total{reason="backlog",source="prometheus"} 1.0' in metrics

        assert await k.drain.drain_all() == 2  # the worker catches up: both accepted rows processed
        async with k.db.read() as conn:
            opened = (await conn.execute(sa.select(sa.func.count()).select_from(t.incidents))).scalar()
        assert opened == 3  # generic, zabbix, pagerduty
        await k.inbox.backlog.refresh()
        path, body, headers = QUEUED["prometheus"]
        assert (await c.post(path, json=body, headers=headers)).status_code == 202


async def test_past_the_age_limit_the_edge_refuses_until_the_oldest_delivery_is_processed(db_url, tmp_path):
    clock = FakeClock(T0)
    settings = {"ingest_max_backlog_age_seconds": 60.0}
    async with (
        running_system(db_url, s.edge_config(), tmp_path, clock=clock, **settings) as k,
        s.client(k) as c,
    ):
        path, body, headers = QUEUED["alertmanager"]
        assert (await c.post(path, json=body, headers=headers)).status_code == 202
        clock.advance(30)
        await k.inbox.backlog.refresh()
        assert (await c.post(path, json=body, headers=headers)).status_code == 202  # 30 s behind: fine
        clock.advance(45)
        await k.inbox.backlog.refresh()
        assert "koban_ingest_backlog_oldest_age_seconds 75.0" in (await c.get("/metrics")).text

        r = await c.post(path, json=body, headers=headers)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert await _waiting(k) == 2

        assert await k.drain.drain_all() == 2
        await k.inbox.backlog.refresh()
        assert (await c.post(path, json=body, headers=headers)).status_code == 202
        metrics = (await c.get("/metrics")).text
        assert "koban_ingest_backlog_oldest_age_seconds 0.0" in metrics


async def test_parked_rows_wait_for_a_person_and_do_not_fill_the_backlog(db_url, tmp_path):
    clock = FakeClock(T0)
    async with (
        running_system(db_url, s.edge_config(), tmp_path, clock=clock, ingest_max_backlog_rows=1) as k,
        s.client(k) as c,
    ):
        path, body, headers = QUEUED["zabbix"]
        assert (await c.post(path, json=body, headers=headers)).status_code == 202
        async with k.db.begin() as conn:
            await conn.execute(sa.update(ingest_inbox).values(error="kept for a person"))
        await k.inbox.backlog.refresh()
        assert k.inbox.backlog.rows == 0
        assert (await c.post(path, json=body, headers=headers)).status_code == 202
