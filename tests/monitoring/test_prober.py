"""End to end: a monitor in the config, a real HTTP target killed and restarted, an incident opened
(with the first failed probe on its timeline and a notification sent) and then resolved; both DBs."""

from __future__ import annotations

import asyncio
from datetime import datetime

from koban.core.clock import SystemClock
from tests.monitoring.support import api, config_with, http_monitor, running_prober, until
from tests.support.servers import HttpServer
from tests.support.system import running_system


async def test_killed_target_opens_incident_with_first_failed_probe_then_resolves(db_url, tmp_path):
    server = await HttpServer().start()
    cfg = config_with(http_monitor(f"{server.base}/ok", confirmations=1))
    async with (
        running_system(db_url, cfg, tmp_path, worker=True, clock=SystemClock(), poll_seconds=0.1) as k,
        running_prober(k),
        api(k) as c,
    ):

        async def status() -> str:
            return (await c.get("/api/v1/monitors/web-health")).json()["state"]["status"]

        await until(lambda: _is(status, "up"), "the monitor to be up")
        await server.stop()

        async def incident() -> dict | None:
            items = (await c.get("/api/v1/incidents")).json()["incidents"]
            return items[0] if items else None

        inc = await until(incident, "an incident for the killed target")
        got = (await c.get(f"/api/v1/incidents/{inc['id']}")).json()
        assert got["service"] == "web" and got["severity"] == "critical"
        first = got["timeline"][0]
        assert first["kind"] == "probe.failed"
        assert first["data"]["monitor"] == "web-health"
        assert "refused" in first["data"]["locations"]["local"]

        async def notified() -> dict | None:
            body = (await c.get(f"/api/v1/incidents/{inc['id']}")).json()
            return body if any(e["kind"] == "notification.sent" for e in body["timeline"]) else None

        got = await until(notified, "the first notification")
        sent = next(e for e in got["timeline"] if e["kind"] == "notification.sent")
        assert _ts(first["at"]) <= _ts(sent["at"])
        # Two attempts (the probe and its immediate re-check) failed before the page.
        raw = (
            await c.get("/api/v1/monitors/web-health/results", params={"step": "raw", "since": "1h"})
        ).json()
        failed = [p for p in raw["points"] if not p["success"]]
        assert any(not p["final"] for p in failed) and any(p["final"] for p in failed)

        await server.start()  # back on the same port

        async def resolved() -> bool:
            body = (await c.get(f"/api/v1/incidents/{inc['id']}")).json()
            return body["status"] == "resolved"

        await until(resolved, "the incident to resolve")
        assert await status() == "up"
    await server.stop()


async def _is(check, value) -> bool:  # noqa: ANN001
    return await check() == value


def _ts(value: str | float) -> float:
    return float(value) if isinstance(value, int | float) else datetime.fromisoformat(value).timestamp()


async def test_deleting_a_down_monitor_resolves_its_incident(db_url, tmp_path):
    server = await HttpServer().start()
    await server.stop()  # down from the first probe
    cfg = config_with(http_monitor(f"{server.base}/ok", confirmations=1))
    async with (
        running_system(db_url, cfg, tmp_path, worker=True, clock=SystemClock(), poll_seconds=0.1) as k,
        running_prober(k),
        api(k) as c,
    ):

        async def incident() -> dict | None:
            items = (await c.get("/api/v1/incidents")).json()["incidents"]
            return items[0] if items else None

        inc = await until(incident, "an incident for the dead target")
        assert (await c.delete("/api/v1/monitors/web-health")).status_code == 200

        async def resolved() -> dict | None:
            body = (await c.get(f"/api/v1/incidents/{inc['id']}")).json()
            return body if body["status"] == "resolved" else None

        got = await until(resolved, "the deleted monitor's incident to resolve")  # the target is still dead
        assert [e["via"] for e in got["timeline"] if e["kind"] == "resolved"] == ["koban.probes"]
        assert (await c.get("/api/v1/monitors/web-health")).status_code == 404


async def test_a_state_change_raises_and_resolves_its_alert_without_waiting_for_the_store_batch(
    db_url, tmp_path
):
    """The batch timer is an hour here: only the urgent path can open and close the incident."""
    server = await HttpServer().start()
    await server.stop()  # down from the first probe
    cfg = config_with(http_monitor(f"{server.base}/ok", confirmations=1))
    async with (
        running_system(db_url, cfg, tmp_path, worker=True, clock=SystemClock(), poll_seconds=0.1) as k,
        running_prober(k, flush_interval=3600.0) as prober,
        api(k) as c,
    ):

        async def incident() -> dict | None:
            items = (await c.get("/api/v1/incidents")).json()["incidents"]
            return items[0] if items else None

        inc = await until(incident, "an incident, with the flush interval at an hour")
        await server.start()

        async def resolved() -> bool:
            return (await c.get(f"/api/v1/incidents/{inc['id']}")).json()["status"] == "resolved"

        await until(resolved, "the incident to resolve, with the flush interval at an hour")
        stored = prober.runner.stats.stored
        await asyncio.sleep(2.5)  # two more probes, both up: ordinary results keep their batch
        assert prober.runner.stats.stored == stored
    await server.stop()
