"""``koban serve`` as a real subprocess: alert over HTTP, pages reach a webhook, ack over the API."""

from __future__ import annotations

import sqlite3
import time

import aiohttp
import pytest

from koban.fakes.webhook_receiver import RecordingReceiver
from koban.testing.ports import free_port
from tests.support import koban_proc as kp
from tests.support.admin import provision_url

pytestmark = pytest.mark.slow


def page_keys(recv: RecordingReceiver) -> list[str]:
    return [d["idempotency_key"] for d in recv.deliveries if ":update:" not in d["idempotency_key"]]


async def test_alert_over_http_pages_step_by_step_until_acknowledged_over_the_api(db_url, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with RecordingReceiver(kp.SECRET) as recv:
        # Step 0 waits 1 s, step 1 a minute: the ack lands while step 1 waits, so step 2 never runs.
        cfg = kp.write_config(
            tmp_path / "koban.yaml", kp.paging_config(recv.url, escalate_after=["1s", "60s", "1s"])
        )
        env = kp.koban_env(db_url, tmp_path, port=port, config_file=cfg)
        log = tmp_path / "serve.log"
        proc = await kp.start(["serve"], env, log)
        try:
            await kp.wait_healthy(base, proc, log)
            admin = {"Authorization": f"Bearer {await provision_url(db_url, time.time())}"}
            async with aiohttp.ClientSession(base_url=base) as http:
                async with http.post("/api/v1/ingest", json={"summary": "x"}, headers=_auth("wrong")) as r:
                    assert r.status == 401
                alert = {"summary": "web-1 is down", "severity": "critical", "dedup_key": "web-1"}
                async with http.post("/api/v1/ingest", json=alert, headers=_auth(kp.KEY)) as r:
                    assert r.status == 202
                    [inc] = (await r.json())["incidents"]
                iid = inc["incident_id"]

                async def two_steps() -> bool:
                    return len(page_keys(recv)) >= 2

                await kp.wait_for(two_steps, 30, "steps 0 and 1 to reach the webhook")
                assert page_keys(recv) == [f"{iid}:0:hook:0", f"{iid}:1:hook/alice:0"]

                async with http.post(
                    f"/api/v1/incidents/{iid}/acknowledge", json={"actor": "bob"}, headers=admin
                ) as r:
                    assert r.status == 200
                    assert (await r.json())["status"] == "acknowledged"
                async with http.post(
                    f"/api/v1/incidents/{iid}/acknowledge", json={"actor": "carol"}, headers=admin
                ) as r:
                    assert r.status == 409

                async with http.get(f"/api/v1/incidents/{iid}", headers=admin) as r:
                    body = await r.json()
                assert body["status"] == "acknowledged" and body["acknowledged_by"] == "bob"
                kinds = [e["kind"] for e in body["timeline"]]
                assert kinds[:3] == ["alert.received", "incident.triggered", "step.started"]
                assert kinds.count("notification.sent") >= 2 and "acknowledged" in kinds
                ack = next(e for e in body["timeline"] if e["kind"] == "acknowledged")
                assert (ack["actor"], ack["via"]) == ("bob", "api")

                async with http.get("/metrics") as r:
                    metrics = await r.text()
                assert 'koban_notifications_total{channel="webhook",outcome="sent"}' in metrics
                assert "koban_alert_to_first_notification_seconds_count 1.0" in metrics
        finally:
            assert await kp.stop(proc) == 0, log.read_text()[-3000:]
        assert len(set(page_keys(recv))) == len(page_keys(recv)) == 2
        assert recv.state.duplicates == 0


async def test_serve_upgrades_the_schema_on_start_unless_told_not_to(tmp_path):
    db = tmp_path / "fresh.db"
    env = kp.koban_env(f"sqlite:///{db}", tmp_path, port=free_port())
    log = tmp_path / "serve.log"
    proc = await kp.start(["serve", "--no-migrate"], env, log)
    await proc.wait()  # nothing to serve from: the catalog tables do not exist
    assert proc.returncode != 0
    assert "alembic_version" not in _tables(db)

    port = free_port()
    env = kp.koban_env(f"sqlite:///{db}", tmp_path, port=port)
    proc = await kp.start(["serve"], env, log)
    try:
        await kp.wait_healthy(f"http://127.0.0.1:{port}", proc, log)
    finally:
        await kp.stop(proc)
    assert {"alembic_version", "incidents", "deliveries", "jobs"} <= _tables(db)


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _tables(db) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
