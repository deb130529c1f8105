"""REST: shift swaps (asked, then taken or approved; both people told) and temporary schedules."""

from __future__ import annotations

import sqlalchemy as sa

from koban.auth.permissions import Scope
from koban.db.schema_schedules import schedule_notices
from koban.paging.schedule_notices import send_due
from tests.api.test_schedules import login, make_cfg
from tests.support.system import client, running_system

# The fake clock: 2027-01-15 08:00 UTC, a Friday; bob's week in web-primary, alice's from the 18th.
BOBS = {"start": "2027-01-15T12:00:00+01:00", "end": "2027-01-15T18:00:00+01:00"}
ALICES = {"back_start": "2027-01-19T12:00:00+01:00", "back_end": "2027-01-19T18:00:00+01:00"}
URL = "/api/v1/schedules/web-primary"


async def _who(c, at: str) -> tuple[list[str], str]:
    [slot] = (await c.get("/api/v1/oncall", params={"at": at, "schedule": "web-primary"})).json()["oncall"]
    return slot["people"], slot["source"]


async def _notices(k) -> list[tuple[str, str]]:
    async with k.db.read() as conn:
        rows = await conn.execute(sa.select(schedule_notices.c.key, schedule_notices.c.text))
        return sorted((r.key, r.text) for r in rows)


async def test_a_swap_asked_by_bob_and_taken_by_alice_trades_their_shifts_and_tells_both(db_url, tmp_path):
    async with running_system(db_url, make_cfg(), tmp_path) as k, client(k) as c:
        bob, alice = await login(k, "bob", Scope.RESPOND), await login(k, "alice", Scope.RESPOND)
        asked = await c.post(
            f"{URL}/swaps", json={**BOBS, **ALICES, "taker": "alice", "note": "wedding"}, headers=bob
        )
        assert asked.status_code == 201, asked.text
        swap = asked.json()
        assert (swap["state"], swap["requester"], swap["taker"]) == ("open", "bob", "alice")
        assert await _who(c, "2027-01-15T12:00:00Z") == (["bob"], "layer:week")  # nothing yet
        assert [key for key, _ in await _notices(k)] == [f"swap:{swap['id']}:open:alice:log"]
        taken = await c.post(f"{URL}/swaps/{swap['id']}/take", headers=alice)
        assert taken.status_code == 200, taken.text
        assert taken.json()["state"] == "taken"
        assert await _who(c, "2027-01-15T12:00:00Z") == (["alice"], f"override:swap-{swap['id']}")
        assert await _who(c, "2027-01-19T12:00:00Z") == (["bob"], f"override:swap-{swap['id']}-back")
        keys = [key for key, _ in await _notices(k)]
        assert f"swap:{swap['id']}:taken:alice:log" in keys and f"swap:{swap['id']}:taken:bob:log" in keys
        assert await send_due(k.paging) == 3
        lines = k.channel("log").lines  # type: ignore[attr-defined]
        assert any(
            line.startswith("NOTIFY bob: Swap 1 of web-primary (bob -> alice) was taken") for line in lines
        )
        again = await c.post(f"{URL}/swaps/{swap['id']}/take", headers=alice)
        assert again.status_code == 409
        actions = [
            e["action"]
            for e in (await c.get("/api/v1/audit", params={"kind": "schedules"})).json()["entries"]
        ]
        assert {"schedules.swap.request", "schedules.swap.taken", "schedules.override.create"} <= set(actions)


async def test_only_the_named_taker_takes_and_a_manager_approves_an_open_swap(db_url, tmp_path):
    async with running_system(db_url, make_cfg(), tmp_path) as k, client(k) as c:
        bob, alice = await login(k, "bob", Scope.RESPOND), await login(k, "alice", Scope.RESPOND)
        carol = await login(k, "carol")
        not_his = await c.post(f"{URL}/swaps", json={**BOBS, "requester": "alice"}, headers=bob)
        assert not_his.status_code == 403
        not_on_call = await c.post(f"{URL}/swaps", json=BOBS, headers=alice)
        assert not_on_call.status_code == 422 and "not on call" in not_on_call.text
        named = (await c.post(f"{URL}/swaps", json={**BOBS, "taker": "dave"}, headers=bob)).json()
        assert (await c.post(f"{URL}/swaps/{named['id']}/take", headers=alice)).status_code == 403
        assert (await c.post(f"{URL}/swaps/{named['id']}/cancel", headers=bob)).json()["state"] == "canceled"
        opened = (await c.post(f"{URL}/swaps", json=BOBS, headers=bob)).json()
        assert (await c.post(f"{URL}/swaps/{opened['id']}/approve", json={}, headers=bob)).status_code == 403
        no_taker = await c.post(f"{URL}/swaps/{opened['id']}/approve", json={}, headers=carol)
        assert no_taker.status_code == 422
        ok = await c.post(f"{URL}/swaps/{opened['id']}/approve", json={"taker": "carol"}, headers=carol)
        assert ok.json()["state"] == "approved" and ok.json()["decided_by"] == "carol"
        assert await _who(c, "2027-01-15T12:00:00Z") == (["carol"], f"override:swap-{opened['id']}")
        listed = (await c.get(f"{URL}/swaps")).json()["swaps"]
        assert [s["state"] for s in listed] == ["canceled", "approved"]
        # A manager swaps anyone's shift: asked on alice's behalf, then approved; both are told.
        theirs = {"start": "2027-01-19T12:00:00+01:00", "end": "2027-01-19T18:00:00+01:00"}
        asked = await c.post(
            f"{URL}/swaps", json={**theirs, "requester": "alice", "taker": "bob"}, headers=carol
        )
        assert asked.status_code == 201 and asked.json()["requester"] == "alice"
        done = await c.post(f"{URL}/swaps/{asked.json()['id']}/approve", json={}, headers=carol)
        assert done.json()["state"] == "approved"
        assert await _who(c, "2027-01-19T12:00:00Z") == (["bob"], f"override:swap-{asked.json()['id']}")
        told = [key for key, _ in await _notices(k) if key.startswith(f"swap:{asked.json()['id']}:approved:")]
        assert sorted(told) == [f"swap:{asked.json()['id']}:approved:{p}:log" for p in ("alice", "bob")]


async def test_a_temporary_schedule_replaces_the_layers_for_its_period_with_gaps_where_no_shift_is(
    db_url, tmp_path
):
    async with running_system(db_url, make_cfg(), tmp_path) as k, client(k) as c:
        carol, bob = await login(k, "carol"), await login(k, "bob", Scope.RESPOND)
        body = {
            "id": "offsite",
            "start": "2027-01-16T00:00:00Z",
            "end": "2027-01-17T00:00:00Z",
            "shifts": [
                {"start": "2027-01-16T00:00:00Z", "end": "2027-01-16T12:00:00Z", "people": ["carol", "dave"]}
            ],
        }
        assert (await c.post(f"{URL}/temporaries", json=body, headers=bob)).status_code == 403
        made = await c.post(f"{URL}/temporaries", json=body, headers=carol)
        assert made.status_code == 201, made.text
        assert await _who(c, "2027-01-16T06:00:00Z") == (["carol", "dave"], "temporary:offsite")
        assert await _who(c, "2027-01-16T13:00:00Z") == ([], "gap")
        assert await _who(c, "2027-01-17T06:00:00Z") == (["bob"], "layer:week")
        outside = {**body, "shifts": [{**body["shifts"][0], "end": "2027-01-18T00:00:00Z"}]}
        assert (
            await c.post(f"{URL}/temporaries", json={**outside, "id": "x"}, headers=carol)
        ).status_code == 422
        assert (await c.delete(f"{URL}/temporaries/offsite", headers=carol)).status_code == 200
        assert await _who(c, "2027-01-16T06:00:00Z") == (["bob"], "layer:week")
