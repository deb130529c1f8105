"""Silences, maintenance and inhibition in the engine: muted alerts are recorded, page nobody."""

from __future__ import annotations

import sqlalchemy as sa

from koban.config.loader import parse_config
from koban.db import schema as t
from tests.support.factories import make_alert, make_config
from tests.support.system import client, running_system


def with_routing(**sections):
    base = make_config().model_dump(mode="json")
    return type(make_config()).model_validate({**base, **sections})


async def alert_rows(k):
    async with k.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.alerts.c.dedup_key, t.alerts.c.incident_id, t.alerts.c.muted_reason)
        )
        return [tuple(r) for r in rows]


async def test_yaml_silence_mutes_matching_alerts_and_records_them(db_url, tmp_path):
    silence = {
        "id": "db-upgrade",
        "matchers": ['team="db"'],
        "starts_at": "2020-01-01T00:00:00Z",
        "ends_at": "2099-01-01T00:00:00Z",
        "created_by": "alice",
        "comment": "upgrade",
    }
    async with running_system(db_url, with_routing(silences=[silence]), tmp_path) as k:
        out = await k.batcher.submit("web-generic", [make_alert("a", labels={"team": "db"}), make_alert("b")])
        assert out[0].incident_id is None and "silence db-upgrade by alice" in out[0].ignored
        assert out[1].created
        rows = await alert_rows(k)
        assert rows[0][0] == "a" and "upgrade" in rows[0][2]


async def test_silence_made_through_the_api_mutes_until_expired(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as c:
        body = {"matchers": ['host=~"db-.*"'], "ends_at": "2099-01-01T00:00:00Z", "created_by": "bob"}
        r = await c.post("/api/v1/silences", json=body)
        assert r.status_code == 201 and r.json()["state"] == "active"
        sid = r.json()["id"]
        [muted] = await k.batcher.submit("web-generic", [make_alert("x", labels={"host": "db-1"})])
        assert muted.incident_id is None
        assert (await c.delete(f"/api/v1/silences/{sid}")).json()["state"] == "expired"
        [paged] = await k.batcher.submit("web-generic", [make_alert("x", labels={"host": "db-1"})])
        assert paged.created
        bad = await c.post("/api/v1/silences", json={**body, "matchers": ['host=~".*"']})
        assert bad.status_code == 422


async def test_maintenance_window_mutes_its_service(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as c:
        window = {
            "id": "patch",
            "services": ["web"],
            "starts_at": "2020-01-01T00:00:00Z",
            "ends_at": "2099-01-01T00:00:00Z",
        }
        assert (await c.post("/api/v1/maintenance", json=window)).status_code == 201
        assert (await c.get("/api/v1/maintenance")).json()["maintenance"][0]["active"]
        [out] = await k.batcher.submit("web-generic", [make_alert()])
        assert "maintenance window" in out.ignored
        assert (await c.delete("/api/v1/maintenance/patch")).status_code == 204
        [out] = await k.batcher.submit("web-generic", [make_alert()])
        assert out.created


async def test_an_rrule_maintenance_window_made_through_the_api_mutes_its_service(db_url, tmp_path):
    """Issue 17 item 18: a window recurring by an RFC 5545 rule (here every day, each lasting a day:
    always in maintenance, whatever the clock says)."""
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as c:
        window = {
            "id": "nightly",
            "services": ["web"],
            "timezone": "Europe/Paris",
            "rrule": "FREQ=DAILY",
            "starts_at": "2020-01-01T00:00:00+01:00",
            "duration": "1d",
        }
        made = await c.post("/api/v1/maintenance", json=window)
        assert made.status_code == 201, made.text
        [listed] = (await c.get("/api/v1/maintenance")).json()["maintenance"]
        assert listed["rrule"] == "FREQ=DAILY" and listed["active"]
        [out] = await k.batcher.submit("web-generic", [make_alert()])
        assert "maintenance window" in out.ignored
        bad = await c.post("/api/v1/maintenance", json={**window, "id": "bad", "rrule": "FREQ=OFTEN"})
        assert bad.status_code == 422 and "RRULE" in bad.text


async def test_firing_critical_inhibits_matching_warnings(db_url, tmp_path):
    rule = {
        "id": "crit-mutes-warn",
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity="warning"'],
        "equal": ["host"],
    }
    async with running_system(db_url, with_routing(inhibit_rules=[rule]), tmp_path) as k:
        crit = make_alert("down", labels={"host": "db-1"})
        same = make_alert("slow", severity="warning", labels={"host": "db-1"})
        other = make_alert("slow2", severity="warning", labels={"host": "db-2"})
        out = await k.batcher.submit("web-generic", [crit, same, other])
        assert out[0].created and out[1].incident_id is None and out[2].created
        assert "inhibition rule 'crit-mutes-warn'" in out[1].ignored


def test_example_routing_config_passes_the_checks():
    from pathlib import Path

    cfg = parse_config(Path("examples/routing.yaml").read_text(), "examples/routing.yaml")
    assert cfg.silences and cfg.maintenance and cfg.heartbeats and cfg.inhibit_rules


def test_heartbeat_for_an_unknown_service_is_reported_with_its_line():
    text = "heartbeats:\n  - id: hb\n    service: nope\n"
    try:
        parse_config(text)
    except ValueError as exc:
        assert "line 3" in str(exc) and "unknown service 'nope'" in str(exc)
    else:
        raise AssertionError("accepted an unknown service")


async def test_acknowledgements_and_resolves_are_never_muted(db_url, tmp_path):
    """A silence and a maintenance window both match, after the incident opened: the
    source's acknowledge still acknowledges and its resolve still resolves (issue 17, item 21;
    routing/mute.py's promise), while a new trigger is muted."""
    labels = {"team": "db", "host": "db-1", "severity": "warning"}
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as c:
        [opened] = await k.batcher.submit("web-generic", [make_alert("x", labels=labels)])
        assert opened.created
        silence = {"matchers": ['team="db"'], "ends_at": "2099-01-01T00:00:00Z", "created_by": "bob"}
        assert (await c.post("/api/v1/silences", json=silence)).status_code == 201
        window = {"id": "patch", "services": ["web"], "starts_at": "2020-01-01T00:00:00Z"}
        window["ends_at"] = "2099-01-01T00:00:00Z"
        assert (await c.post("/api/v1/maintenance", json=window)).status_code == 201
        [muted] = await k.batcher.submit("web-generic", [make_alert("y", labels=labels)])
        assert muted.incident_id is None and muted.ignored
        [acked] = await k.batcher.submit(
            "web-generic", [make_alert("x", action="acknowledge", labels=labels)]
        )
        assert not acked.ignored, acked
        incident = (await c.get(f"/api/v1/incidents/{opened.incident_id}")).json()
        assert incident["status"] == "acknowledged"
        [resolved] = await k.batcher.submit("web-generic", [make_alert("x", action="resolve", labels=labels)])
        assert not resolved.ignored, resolved
        assert (await c.get(f"/api/v1/incidents/{opened.incident_id}")).json()["status"] == "resolved"
