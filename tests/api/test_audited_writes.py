"""Every change made through the REST API is on the audit trail, with who made it (issue 12):
silences, maintenance windows, heartbeats, integration keys, channel repairs and contact problems,
besides config objects, incidents, logins and tokens (tested with their own routes)."""

from __future__ import annotations

from tests.support.factories import make_config
from tests.support.system import client, running_system


async def test_each_rest_write_leaves_one_audit_entry_with_its_author(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as admin:
        silence = {"matchers": ['service="web"'], "ends_at": "2099-01-01T00:00:00Z", "created_by": "ops"}
        made = await admin.post("/api/v1/silences", json=silence)
        assert (await admin.delete(f"/api/v1/silences/{made.json()['id']}")).status_code == 200
        window = {
            "id": "w1",
            "services": ["web"],
            "starts_at": "2099-01-01T00:00:00Z",
            "ends_at": "2099-01-02T00:00:00Z",
        }
        assert (await admin.post("/api/v1/maintenance", json=window)).status_code == 201
        assert (await admin.delete("/api/v1/maintenance/w1")).status_code == 204
        beat = {"id": "nightly", "service": "web", "period": "1h"}
        assert (await admin.put("/api/v1/heartbeats/nightly", json=beat)).status_code == 200
        assert (await admin.delete("/api/v1/heartbeats/nightly")).status_code == 204
        key = await admin.post("/api/v1/integrations/web-generic/keys")
        assert key.status_code == 200, key.text
        listed = (await admin.get("/api/v1/integrations/web-generic/keys")).json()["keys"]
        assert (
            await admin.delete(f"/api/v1/integrations/web-generic/keys/{listed[-1]['id']}")
        ).status_code == 200

        entries = (await admin.get("/api/v1/audit", params={"limit": 100})).json()["entries"]
        actions = [e["action"] for e in entries][::-1]
        assert actions == [
            "silences.create",
            "silences.expire",
            "maintenance.create",
            "maintenance.delete",
            "heartbeats.create",
            "heartbeats.delete",
            "integration_keys.create",
            "integration_keys.revoke",
        ]
        assert {e["person"] for e in entries} == {"test-admin"} and {e["via"] for e in entries} == {"api"}
        assert key.json()["key"] not in str(entries)  # the key itself is never kept
