"""``POST /v2/enqueue`` answers exactly as PagerDuty's Events API v2 does, so its clients work unchanged."""

from __future__ import annotations

import uuid

from tests.ingest import support as s
from tests.support.system import running_system


async def test_trigger_ack_resolve_with_pagerduty_response_shapes(db_url, tmp_path):
    async with running_system(db_url, s.edge_config(), tmp_path) as k, s.client(k) as c:
        r = await c.post("/v2/enqueue", json=s.pagerduty_body("trigger", "db-1/disk"))
        assert r.status_code == 202
        assert r.json() == {"status": "success", "message": "Event processed", "dedup_key": "db-1/disk"}
        await k.drain.drain_all()  # committed to the inbox before the 202; the worker makes the incident
        [incident] = (await c.get("/api/v1/incidents")).json()["incidents"]
        assert incident["status"] == "triggered" and incident["summary"] == "disk full on db-1"
        assert (await c.post("/v2/enqueue", json=s.pagerduty_body("acknowledge"))).status_code == 202
        await k.drain.drain_all()
        got = (await c.get(f"/api/v1/incidents/{incident['id']}")).json()
        assert got["status"] == "acknowledged"
        assert (await c.post("/v2/enqueue", json=s.pagerduty_body("resolve"))).status_code == 202
        await k.drain.drain_all()
        assert (await c.get(f"/api/v1/incidents/{incident['id']}")).json()["status"] == "resolved"
        # Resolving a key with nothing open is dropped silently, as PagerDuty does: still 202.
        r = await c.post("/v2/enqueue", json=s.pagerduty_body("resolve", "never-opened"))
        assert r.status_code == 202 and r.json()["dedup_key"] == "never-opened"


async def test_a_trigger_without_dedup_key_gets_a_generated_uuid_that_a_retry_reuses(db_url, tmp_path):
    async with running_system(db_url, s.edge_config(), tmp_path) as k, s.client(k) as c:
        body = s.pagerduty_body("trigger", dedup_key=None)
        first = (await c.post("/v2/enqueue", json=body)).json()["dedup_key"]
        assert uuid.UUID(first)
        assert (await c.post("/v2/enqueue", json=body)).json()["dedup_key"] == first
        await k.drain.drain_all()
        assert len((await c.get("/api/v1/incidents")).json()["incidents"]) == 1


async def test_invalid_events_get_pagerdutys_400_listing_every_problem(db_url, tmp_path):
    async with running_system(db_url, s.edge_config(), tmp_path) as k, s.client(k) as c:
        body = {"routing_key": s.key_for("pagerduty"), "event_action": "trigger", "payload": {"summary": "x"}}
        r = await c.post("/v2/enqueue", json=body)
        assert r.status_code == 400
        got = r.json()
        assert (got["status"], got["message"]) == ("invalid event", "Event object is invalid")
        assert any("payload.source" in e for e in got["errors"])
        assert any("payload.severity" in e for e in got["errors"])
        r = await c.post(
            "/v2/enqueue", json={"routing_key": s.key_for("pagerduty"), "event_action": "resolve"}
        )
        assert r.status_code == 400 and "dedup_key" in r.json()["errors"][0]
        r = await c.post("/v2/enqueue", json=s.pagerduty_body() | {"routing_key": "not-a-key"})
        assert r.status_code == 400 and "routing_key" in r.json()["errors"][0]
        r = await c.post("/v2/enqueue", content=b"{oops", headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["status"] == "invalid event"
        for action in (["trigger"], {"a": 1}, 7):  # found by the fuzz test: was a 500
            body = s.pagerduty_body() | {"event_action": action}
            for path in ("/v2/enqueue", "/api/v1/ingest"):
                r = await c.post(path, json=body, headers=s.bearer("pagerduty"))
                assert r.status_code == 400 and "event_action" in r.text, (path, action)
        r = await c.post("/v2/enqueue", json=[1, 2])
        assert r.status_code == 400 and r.json()["errors"]
        assert await k.drain.drain_all() == 0  # nothing refused was stored
        assert (await c.get("/api/v1/incidents")).json()["incidents"] == []


async def test_over_the_limit_is_a_throttle_429_with_retry_after(db_url, tmp_path):
    cfg = s.edge_config(limits={"per_minute": 2})
    async with running_system(db_url, cfg, tmp_path) as k, s.client(k) as c:
        for n in range(2):
            assert (await c.post("/v2/enqueue", json=s.pagerduty_body(dedup_key=f"k{n}"))).status_code == 202
        r = await c.post("/v2/enqueue", json=s.pagerduty_body(dedup_key="k3"))
        assert r.status_code == 429
        assert r.json()["status"] == "throttle event"
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        k.clock.advance(60)
        assert (await c.post("/v2/enqueue", json=s.pagerduty_body(dedup_key="k3"))).status_code == 202
