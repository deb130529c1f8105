"""The REST API and ingest over ASGI (httpx), on both databases."""

from __future__ import annotations

from tests.support.factories import KEY, make_config
from tests.support.system import client, running_system


async def test_generic_alert_is_accepted_with_incident_id_and_listed(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as c:
        r = await c.post(
            "/api/v1/ingest",
            json={"summary": "db down", "dedup_key": "db", "severity": "critical"},
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert r.status_code == 202, r.text
        incident_id = r.json()["incidents"][0]["incident_id"]
        got = (await c.get(f"/api/v1/incidents/{incident_id}")).json()
        assert got["status"] == "triggered"
        assert [e["kind"] for e in got["timeline"]][:3] == [
            "alert.received",
            "incident.triggered",
            "step.started",
        ]
        ack = await c.post(f"/api/v1/incidents/{incident_id}/acknowledge", json={"actor": "alice"})
        assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
        assert (await c.post(f"/api/v1/incidents/{incident_id}/acknowledge")).status_code == 409


async def test_key_in_path_and_x_api_key_work_and_unknown_key_is_401(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as c:
        assert (await c.post(f"/api/v1/ingest/{KEY}", json={"summary": "x"})).status_code == 202
        assert (
            await c.post("/api/v1/ingest", json={"summary": "x"}, headers={"X-Api-Key": KEY})
        ).status_code == 202
        r = await c.post("/api/v1/ingest", json={"summary": "x"}, headers={"X-Api-Key": "nope"})
        assert r.status_code == 401 and "unknown" in r.json()["error"]
        assert (await c.post("/api/v1/ingest", json={"summary": "x"})).status_code == 401


async def test_bad_bodies_get_a_4xx_that_says_what_is_wrong(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path, max_body_bytes=2048) as k, client(k) as c:
        h = {"Authorization": f"Bearer {KEY}"}
        r = await c.post("/api/v1/ingest", content=b"{not json", headers=h)
        assert r.status_code == 400 and "JSON" in r.json()["error"]
        r = await c.post("/api/v1/ingest", json={"severity": "critical"}, headers=h)
        assert r.status_code == 422 and r.json()["field"] == "summary"
        r = await c.post("/api/v1/ingest", json={"summary": "x" * 5000}, headers=h)
        assert r.status_code == 413


async def test_objects_round_trip_through_the_api_with_reference_checks(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as c:
        r = await c.put("/api/v1/people/dave", json={"id": "dave", "notify": ["log"]})
        assert r.status_code == 200, r.text
        assert (await c.get("/api/v1/people/dave")).json()["notify"] == ["log"]
        r = await c.put("/api/v1/rotations/r2", json={"id": "r2", "members": ["dave", "zed"]})
        assert r.status_code == 422 and "zed" in r.text
        assert (await c.get("/openapi.json")).json()["paths"]["/api/v1/ingest"]
        assert (await c.get("/healthz")).json()["status"] == "ok"
        assert "koban_alerts_received_total" in (await c.get("/metrics")).text
