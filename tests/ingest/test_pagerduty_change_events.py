"""PagerDuty change events (issue 17, item 12): ``POST /v2/change/enqueue`` answers in PagerDuty's
shapes, and the change shows on its service's recent changes."""

from __future__ import annotations

from datetime import UTC, datetime

from koban.core.clock import FakeClock
from tests.ingest import support as s
from tests.support.system import running_system

T0 = 1_800_000_000.0


def change(**payload) -> dict:
    return {
        "routing_key": s.key_for("pagerduty"),
        "payload": {"summary": "Deploy web v42", "source": "ci", **payload},
        "links": [{"href": "https://ci.example/builds/42", "text": "Build 42"}],
    }


async def test_a_change_event_is_accepted_and_shown_on_its_service(db_url, tmp_path):
    clock = FakeClock(T0)
    async with running_system(db_url, s.edge_config(), tmp_path, clock=clock) as k, s.client(k) as c:
        earlier = datetime.fromtimestamp(T0 - 60, UTC).isoformat()
        r = await c.post("/v2/change/enqueue", json=change(timestamp=earlier, custom_details={"sha": "abc"}))
        assert r.status_code == 202, r.text
        assert r.json() == {"message": "Change event processed", "status": "success"}
        ahead = datetime.fromtimestamp(T0 + 3600, UTC).isoformat()  # a sender's clock ahead: receipt
        assert (
            await c.post("/v2/change/enqueue", json=change(summary="Flag on", timestamp=ahead))
        ).status_code == 202
        got = (await c.get("/api/v1/services/web/changes")).json()["changes"]
        assert [(x["summary"], x["at"]) for x in got] == [
            ("Flag on", datetime.fromtimestamp(T0, UTC).isoformat()),
            ("Deploy web v42", earlier),
        ]
        assert got[1]["custom_details"] == {"sha": "abc"} and got[1]["links"][0]["text"] == "Build 42"
        assert (await c.get("/api/v1/services/nope/changes")).status_code == 404


async def test_an_invalid_change_event_is_refused_in_pagerdutys_shape(db_url, tmp_path):
    async with running_system(db_url, s.edge_config(), tmp_path, clock=FakeClock(T0)) as k, s.client(k) as c:
        r = await c.post("/v2/change/enqueue", json={"routing_key": s.key_for("pagerduty"), "payload": {}})
        assert r.status_code == 400
        body = r.json()
        assert body["status"] == "invalid event" and body["message"] == "Event object is invalid"
        assert any("summary" in e for e in body["errors"])
        bad_key = {**change(), "routing_key": "nope"}
        assert (await c.post("/v2/change/enqueue", json=bad_key)).status_code == 400
        assert (await c.get("/api/v1/services/web/changes")).json() == {"changes": []}
