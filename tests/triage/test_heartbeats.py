"""Heartbeats end to end over HTTP: ping, miss period + grace, incident; ping again, resolved."""

from __future__ import annotations

import sqlalchemy as sa

from koban.db import schema as t
from tests.support.factories import KEY, make_config
from tests.support.system import client, drain, running_system


def config():
    cfg = make_config()
    hb = {"id": "backup", "name": "Nightly backup", "service": "web", "period": "1h", "grace": "10m"}
    return cfg.model_copy(
        update={"heartbeats": [type(cfg).model_validate({"heartbeats": [hb]}).heartbeats[0]]}
    )


async def open_incidents(k) -> list[tuple[str, str]]:
    async with k.db.read() as conn:
        rows = await conn.execute(sa.select(t.incidents.c.incident_key, t.incidents.c.status))
        return [tuple(r) for r in rows]


async def test_missed_heartbeat_opens_an_incident_and_a_ping_resolves_it(db_url, tmp_path):
    async with running_system(db_url, config(), tmp_path) as k, client(k) as c:
        r = await c.get(f"/api/v1/heartbeats/backup/ping/{KEY}")
        assert r.status_code == 200 and r.json()["status"] == "up"
        k.clock.advance(3600 + 60)
        await drain(k)
        assert await open_incidents(k) == []  # in grace
        k.clock.advance(600)
        await drain(k)
        assert await open_incidents(k) == [("heartbeat:backup", "triggered")]
        k.clock.advance(3600)
        await drain(k)
        assert len(await open_incidents(k)) == 1  # down once, paged once
        r = await c.post("/api/v1/heartbeats/backup/ping", json={"alerts": []}, headers={"X-Api-Key": KEY})
        assert r.status_code == 200
        assert await open_incidents(k) == [("heartbeat:backup", "resolved")]
        listed = (await c.get("/api/v1/heartbeats")).json()["heartbeats"]
        assert listed[0]["status"] == "up" and listed[0]["origin"] == "config"


async def test_ping_needs_a_key_of_the_heartbeats_service(db_url, tmp_path):
    async with running_system(db_url, config(), tmp_path) as k, client(k) as c:
        assert (await c.get("/api/v1/heartbeats/backup/ping")).status_code == 401
        assert (await c.get("/api/v1/heartbeats/backup/ping/wrong")).status_code == 401
        assert (await c.get(f"/api/v1/heartbeats/nope/ping/{KEY}")).status_code == 404


async def test_heartbeats_made_through_the_api_are_checked_and_survive_config_apply(db_url, tmp_path):
    async with running_system(db_url, config(), tmp_path) as k, client(k) as c:
        body = {"id": "etl", "service": "web", "period": "5m", "grace": "1m", "severity": "warning"}
        assert (await c.put("/api/v1/heartbeats/etl", json=body)).status_code == 200
        assert (await c.put("/api/v1/heartbeats/backup", json={**body, "id": "backup"})).status_code == 409
        await c.post(f"/api/v1/heartbeats/etl/ping/{KEY}?kind=fail")
        assert ("heartbeat:etl", "triggered") in await open_incidents(k)
        from koban.catalog.apply import apply_config

        async with k.db.begin() as conn:
            await apply_config(conn, config(), k.clock.now())
        await k.refresh_catalog(force=True)
        ids = [h["id"] for h in (await c.get("/api/v1/heartbeats")).json()["heartbeats"]]
        assert ids == ["backup", "etl"]
        assert (await c.delete("/api/v1/heartbeats/etl")).status_code == 204
