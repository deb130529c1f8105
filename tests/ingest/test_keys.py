"""Integration keys: every way of sending one, stored hashed, two active during a rotation."""

from __future__ import annotations

import sqlalchemy as sa

from koban.db import schema as t
from tests.ingest import support as s
from tests.support.system import running_system

ALERT = {"summary": "queue backlog", "dedup_key": "queue"}


async def test_bearer_basic_x_api_key_and_path_all_name_the_integration(db_url, tmp_path):
    key = s.key_for("generic")
    async with running_system(db_url, s.edge_config(), tmp_path) as k, s.client(k) as c:
        for headers in (
            {"Authorization": f"Bearer {key}"},
            s.basic("koban", key),  # password
            s.basic(key, ""),  # user only (tools with a single field)
            {"X-Api-Key": key},
        ):
            r = await c.post("/api/v1/ingest", json=ALERT, headers=headers)
            assert r.status_code == 202, (headers, r.text)
        assert (await c.post(f"/api/v1/ingest/{key}", json=ALERT)).status_code == 202
        r = await c.post("/api/v1/ingest", json=ALERT, headers=s.basic("koban", "wrong"))
        assert r.status_code == 401 and r.json()["error"] == "unknown integration key"
        r = await c.post("/api/v1/ingest", json=ALERT, headers={"Authorization": "Basic !!notbase64"})
        assert r.status_code == 401 and "no integration key" in r.json()["error"]


async def test_rotation_keeps_the_old_key_until_it_is_revoked_or_its_grace_ends(db_url, tmp_path):
    async with running_system(db_url, s.edge_config(), tmp_path) as k, s.client(k) as c:
        r1 = await c.post("/api/v1/integrations/in-generic/keys")
        r2 = await c.post("/api/v1/integrations/in-generic/keys")
        old, new = r1.json()["key"], r2.json()["key"]
        for key in (old, new):
            assert (await c.post(f"/api/v1/ingest/{key}", json=ALERT)).status_code == 202
        listed = (await c.get("/api/v1/integrations/in-generic/keys")).json()
        assert [x["prefix"] for x in listed["keys"]] == [old[:8], new[:8]] and listed["config_keys"] == 1
        old_id, new_id = (x["id"] for x in listed["keys"])
        # Old key: a one-hour grace period, then it stops working.
        r = await c.delete(f"/api/v1/integrations/in-generic/keys/{old_id}", params={"after": 3600})
        assert r.status_code == 200
        assert (await c.post(f"/api/v1/ingest/{old}", json=ALERT)).status_code == 202
        k.clock.advance(3600)
        assert (await c.post(f"/api/v1/ingest/{old}", json=ALERT)).status_code == 401
        assert (await c.post(f"/api/v1/ingest/{new}", json=ALERT)).status_code == 202
        # Revoked now: gone at once.
        assert (await c.delete(f"/api/v1/integrations/in-generic/keys/{new_id}")).status_code == 200
        assert (await c.post(f"/api/v1/ingest/{new}", json=ALERT)).status_code == 401
        assert (await c.delete(f"/api/v1/integrations/in-generic/keys/{new_id}")).status_code == 404
        assert (await c.get("/api/v1/integrations/nope/keys")).status_code == 404


async def test_keys_are_stored_only_as_hashes(db_url, tmp_path):
    async with running_system(db_url, s.edge_config(), tmp_path) as k, s.client(k) as c:
        key = (await c.post("/api/v1/integrations/in-generic/keys")).json()["key"]
        async with k.db.read() as conn:
            rows = (await conn.execute(sa.select(t.integration_keys))).mappings().all()
            defs = [r.definition for r in await conn.execute(sa.select(t.integrations.c.definition))]
        assert rows and all(key not in str(dict(r)) for r in rows)
        assert all(s.key_for("generic") not in str(d) for d in defs)
