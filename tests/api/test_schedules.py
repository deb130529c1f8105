"""REST: who is on call, the final schedule, overrides by managers and by responders for their shift."""

from __future__ import annotations

import secrets

from koban.auth import api_tokens
from koban.auth.permissions import Scope
from koban.auth.store import create_token, create_user
from koban.config.model import ConfigFile
from tests.support.system import client, running_system

# The fake clock starts at 2027-01-15 08:00 UTC, a Friday: 09:00 in Paris, bob's week.
NOW = "2027-01-15T08:00:00Z"


def make_cfg() -> ConfigFile:
    people = ["alice", "bob", "carol", "dave"]
    layer = {"members": ["alice", "bob"], "start": "2027-01-04", "handoff": "09:00", "name": "week"}
    return ConfigFile.model_validate(
        {
            "people": [{"id": p, "notify": ["log"]} for p in people],
            "channels": [{"id": "log", "type": "console"}],
            "teams": [
                {
                    "id": "web",
                    "members": [
                        {"person": "alice", "role": "responder"},
                        {"person": "bob", "role": "responder"},
                        {"person": "carol", "role": "manager"},
                    ],
                },
                {"id": "db", "members": [{"person": "dave", "role": "manager"}]},
            ],
            "schedules": [
                {"id": "web-primary", "team": "web", "timezone": "Europe/Paris", "layers": [layer]},
                {
                    "id": "db-primary",
                    "team": "db",
                    "timezone": "UTC",
                    "layers": [{**layer, "members": ["dave"]}],
                },
            ],
        }
    )


async def login(k, person: str, scope: Scope = Scope.MANAGE) -> dict[str, str]:
    issued = api_tokens.issue(secrets.token_bytes(24))
    async with k.db.begin() as conn:
        await create_user(conn, person, k.clock.now(), password_hash=None, global_role=None)
        await create_token(conn, issued, k.clock.now(), person_id=person, name="t", scope=scope)
    return {"Authorization": f"Bearer {issued.text}"}


def override(**kw: str) -> dict[str, str]:
    return {"start": "2027-01-15T12:00:00+01:00", "end": "2027-01-15T18:00:00+01:00", **kw}


async def test_who_is_on_call_now_per_schedule_with_the_slot_and_its_source(db_url, tmp_path):
    async with running_system(db_url, make_cfg(), tmp_path) as k, client(k) as c:
        body = (await c.get("/api/v1/oncall")).json()
        assert body["at"] == NOW
        shown = {o["schedule"]: (o["people"], o["source"], o["start_local"]) for o in body["oncall"]}
        assert shown == {
            "web-primary": (["bob"], "layer:week", "2027-01-11T09:00:00"),
            "db-primary": (["dave"], "layer:week", "2027-01-04T09:00:00"),  # one member: one long slot
        }
        later = (await c.get("/api/v1/oncall", params={"at": "2027-01-18T08:00:01Z", "team": "web"})).json()
        assert [(o["schedule"], o["people"]) for o in later["oncall"]] == [("web-primary", ["alice"])]


async def test_a_team_member_sees_only_their_teams_schedules(db_url, tmp_path):
    async with running_system(db_url, make_cfg(), tmp_path) as k, client(k) as c:
        bob = await login(k, "bob", Scope.RESPOND)
        body = (await c.get("/api/v1/oncall", headers=bob)).json()
        assert [o["schedule"] for o in body["oncall"]] == ["web-primary"]
        assert (await c.get("/api/v1/schedules/db-primary/final", headers=bob)).status_code == 403


async def test_the_final_schedule_over_an_interval_and_one_persons_shifts(db_url, tmp_path):
    async with running_system(db_url, make_cfg(), tmp_path) as k, client(k) as c:
        params = {"start": NOW, "end": "2027-02-01T00:00:00Z"}
        slots = (await c.get("/api/v1/schedules/web-primary/final", params=params)).json()["slots"]
        assert [(s["people"], s["start_local"]) for s in slots] == [
            (["bob"], "2027-01-15T09:00:00"),
            (["alice"], "2027-01-18T09:00:00"),
            (["bob"], "2027-01-25T09:00:00"),
        ]
        mine = await c.get("/api/v1/schedules/web-primary/final", params={**params, "person": "alice"})
        assert [s["start"] for s in mine.json()["slots"]] == ["2027-01-18T08:00:00Z"]
        too_long = {"start": NOW, "end": "2029-01-01T00:00:00Z"}
        assert (await c.get("/api/v1/schedules/web-primary/final", params=too_long)).status_code == 422


async def test_a_responder_hands_over_their_own_shift_and_it_is_audited(db_url, tmp_path):
    async with running_system(db_url, make_cfg(), tmp_path) as k, client(k) as c:
        bob = await login(k, "bob", Scope.RESPOND)
        r = await c.post(
            "/api/v1/schedules/web-primary/overrides",
            json=override(person="alice", replaces="bob", note="dentist"),
            headers=bob,
        )
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["by"] == "bob" and made["id"].startswith("o-")
        at = {"at": "2027-01-15T12:00:00Z"}
        [now] = (await c.get("/api/v1/oncall", params={**at, "schedule": "web-primary"})).json()["oncall"]
        assert (now["people"], now["source"], now["layer"]) == (["alice"], f"override:{made['id']}", "week")
        [entry] = (await c.get("/api/v1/audit", params={"kind": "schedules"})).json()["entries"]
        assert (entry["person"], entry["action"]) == ("bob", "schedules.override.create")
        assert entry["before"]["overrides"] == [] and entry["after"]["overrides"][0]["note"] == "dentist"
        gone = await c.delete(f"/api/v1/schedules/web-primary/overrides/{made['id']}", headers=bob)
        assert gone.status_code == 200


async def test_a_responder_cannot_override_someone_elses_shift_or_a_shift_they_do_not_have(db_url, tmp_path):
    async with running_system(db_url, make_cfg(), tmp_path) as k, client(k) as c:
        alice = await login(k, "alice", Scope.RESPOND)
        url = "/api/v1/schedules/web-primary/overrides"
        someone_else = await c.post(url, json=override(person="alice", replaces="bob"), headers=alice)
        assert someone_else.status_code == 403 and "own shift" in someone_else.text
        not_hers = await c.post(url, json=override(person="carol", replaces="alice"), headers=alice)
        assert not_hers.status_code == 403 and "not on call" in not_hers.text
        other_team = await c.post("/api/v1/schedules/db-primary/overrides", json=override(person="alice"))
        assert other_team.status_code == 201  # the administrator may
        assert (
            await c.post(
                "/api/v1/schedules/db-primary/overrides", json=override(person="alice"), headers=alice
            )
        ).status_code == 403


async def test_a_manager_overrides_anyone_and_a_responder_cannot_remove_it(db_url, tmp_path):
    async with running_system(db_url, make_cfg(), tmp_path) as k, client(k) as c:
        carol, bob = await login(k, "carol"), await login(k, "bob", Scope.RESPOND)
        url = "/api/v1/schedules/web-primary/overrides"
        r = await c.post(url, json=override(person="carol", kind="add", id="shadow"), headers=carol)
        assert r.status_code == 201
        assert (
            await c.post(url, json=override(person="dave", id="shadow"), headers=carol)
        ).status_code == 409
        unknown = await c.post(url, json=override(person="zoe"), headers=carol)
        assert unknown.status_code == 422 and "unknown person 'zoe'" in unknown.text
        assert (await c.delete(f"{url}/shadow", headers=bob)).status_code == 403
        assert (await c.delete(f"{url}/shadow", headers=carol)).status_code == 200
        assert (await c.delete(f"{url}/shadow", headers=carol)).status_code == 404


async def test_an_override_made_through_the_api_survives_a_config_apply_and_goes_with_its_schedule(
    db_url, tmp_path
):
    from koban.catalog.apply import apply_config

    cfg = make_cfg()
    async with running_system(db_url, cfg, tmp_path) as k, client(k) as c:
        url = "/api/v1/schedules/web-primary/overrides"
        assert (await c.post(url, json=override(person="carol", id="cover"))).status_code == 201
        async with k.db.begin() as conn:
            changes = await apply_config(conn, cfg, k.clock.now())  # the file knows nothing of it
        assert changes == []
        at = {"at": "2027-01-15T12:00:00Z", "schedule": "web-primary"}
        [now] = (await c.get("/api/v1/oncall", params=at)).json()["oncall"]
        assert (now["people"], now["source"]) == (["carol"], "override:cover")
        listed = (await c.get(url)).json()
        assert (listed["file"], [o["id"] for o in listed["api"]]) == ([], ["cover"])
        without = cfg.model_copy(update={"schedules": cfg.schedules[1:]})
        async with k.db.begin() as conn:
            await apply_config(conn, without, k.clock.now())
            await apply_config(conn, cfg, k.clock.now())  # back again, without what the API had added
        await k.refresh_catalog(force=True)
        [again] = (await c.get("/api/v1/oncall", params=at)).json()["oncall"]
        assert again["people"] == ["bob"]


async def test_an_override_of_the_file_cannot_be_removed_through_the_api(db_url, tmp_path):
    data = make_cfg().model_dump(mode="json")
    data["schedules"][0]["overrides"] = [{**override(person="carol"), "id": "from-file"}]
    async with running_system(db_url, ConfigFile.model_validate(data), tmp_path) as k, client(k) as c:
        url = "/api/v1/schedules/web-primary/overrides"
        assert (await c.post(url, json=override(person="dave", id="from-file"))).status_code == 409
        gone = await c.delete(f"{url}/from-file")
        assert gone.status_code == 409 and "edit the file" in gone.text


async def test_a_persons_upcoming_shifts_in_the_schedules_the_caller_may_read(db_url, tmp_path):
    async with running_system(db_url, make_cfg(), tmp_path) as k, client(k, admin=False) as c:
        bob = await login(k, "bob", Scope.READ)
        mine = (await c.get("/api/v1/oncall/shifts", params={"days": 14}, headers=bob)).json()
        assert mine["person"] == "bob" and mine["start"] == NOW
        assert [(s["schedule"], s["start_local"], s["end_local"]) for s in mine["shifts"]] == [
            ("web-primary", "2027-01-15T09:00:00", "2027-01-18T09:00:00"),  # from now to the handoff
            ("web-primary", "2027-01-25T09:00:00", "2027-01-29T09:00:00"),  # cut at 14 days
        ]
        dave = await login(k, "dave", Scope.READ)
        other = await c.get("/api/v1/oncall/shifts", params={"person": "bob"}, headers=dave)
        assert other.status_code == 200 and other.json()["shifts"] == []  # web's schedule: not dave's to read
        assert (
            await c.get("/api/v1/oncall/shifts", params={"person": "zed"}, headers=dave)
        ).status_code == 404
        assert (await c.get("/api/v1/oncall/shifts", params={"days": 91}, headers=dave)).status_code == 422
        assert (await c.get("/api/v1/oncall/shifts")).status_code == 401
