"""The contact-problems endpoint: what the Twilio wiring recorded is listed, filtered and cleared."""

from __future__ import annotations

import httpx

from koban.bootstrap.app import create_app
from koban.bootstrap.wiring.twilio_store import known_bad, record_problem
from tests.support.admin import AdminToken
from tests.support.factories import make_config
from tests.support.system import running_system


async def test_recorded_problems_are_listed_and_a_cleared_one_is_tried_again(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        await record_problem(k.db, "alice", "phone", "+15550000", 21211, "invalid 'To' number", 1_700_000_000)
        await record_problem(k.db, "bob", "phone", "+15550001", 21219, "unverified number", 1_700_000_100)
        api = httpx.ASGITransport(app=create_app(k, manage_system=False))
        async with httpx.AsyncClient(transport=api, base_url="http://koban", auth=AdminToken(k)) as http:
            listed = (await http.get("/api/v1/contact-problems")).json()["problems"]
            assert [(p["person"], p["code"]) for p in listed] == [("bob", 21219), ("alice", 21211)]
            assert listed[1]["address"] == "+15550000" and listed[1]["at"].startswith("2023-11-14T22:13:20")

            only = (await http.get("/api/v1/contact-problems", params={"person": "alice"})).json()
            assert [p["person"] for p in only["problems"]] == ["alice"]

            assert (await http.delete("/api/v1/contact-problems/alice/phone")).json()["cleared"]
            assert await known_bad(k.db, "alice", "phone", "+15550000") is None  # pages dial it again

            missing = await http.delete("/api/v1/contact-problems/alice/phone")
            assert missing.status_code == 404 and "alice" in missing.json()["detail"]
            assert "/api/v1/contact-problems" in (await http.get("/openapi.json")).json()["paths"]
