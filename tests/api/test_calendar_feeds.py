"""iCal feeds of on-call shifts: a schedule's or a person's, behind an unguessable revocable URL."""

from __future__ import annotations

from icalendar import Calendar

from koban.auth.permissions import Scope
from tests.api.test_schedules import login, make_cfg, override
from tests.support.system import client, running_system


def events(ics: bytes) -> list[tuple[str, str, str]]:
    cal = Calendar.from_ical(ics)
    return [
        (str(e["summary"]), e["dtstart"].dt.strftime("%m-%d %H:%M"), str(e["transp"]))
        for e in cal.walk("VEVENT")
    ]


async def test_a_schedule_feed_shows_the_overrides_not_the_shifts_they_replaced(db_url, tmp_path):
    async with running_system(db_url, make_cfg(), tmp_path) as k, client(k) as admin:
        ill = override(person="alice", replaces="bob")  # 12:00-18:00 Paris on Friday 15 January
        assert (await admin.post("/api/v1/schedules/web-primary/overrides", json=ill)).status_code == 201
        bob = await login(k, "bob", Scope.RESPOND)
        made = await admin.post("/api/v1/feeds", json={"schedule": "web-primary"}, headers=bob)
        assert made.status_code == 201 and made.json()["url"].startswith("/cal/")
        async with client(k, admin=False) as anyone:
            got = await anyone.get(made.json()["url"])
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/calendar")
        shown = events(got.content)
        assert {t for _, _, t in shown} == {"TRANSPARENT"}  # being on call does not block the calendar
        friday = [(s, start) for s, start, _ in shown if start.startswith("01-1")]
        assert friday == [
            ("bob on call (web-primary)", "01-11 08:00"),
            ("alice on call (web-primary)", "01-15 11:00"),
            ("bob on call (web-primary)", "01-15 17:00"),
            ("alice on call (web-primary)", "01-18 08:00"),
        ]


async def test_a_person_feed_has_only_their_shifts_with_a_reminder(db_url, tmp_path):
    async with running_system(db_url, make_cfg(), tmp_path) as k, client(k) as c:
        alice = await login(k, "alice", Scope.RESPOND)
        made = await c.post("/api/v1/feeds", json={"person": "alice", "alarm_minutes": 15}, headers=alice)
        assert made.status_code == 201
        ics = (await c.get(made.json()["url"])).content
        assert {s for s, _, _ in events(ics)} == {"alice on call (web-primary)"}
        alarm = next(iter(Calendar.from_ical(ics).walk("VALARM")))
        assert alarm["trigger"].to_ical() == b"-PT15M"


async def test_a_feed_needs_access_to_what_it_shows(db_url, tmp_path):
    async with running_system(db_url, make_cfg(), tmp_path) as k, client(k) as c:
        bob = await login(k, "bob", Scope.RESPOND)
        assert (
            await c.post("/api/v1/feeds", json={"schedule": "db-primary"}, headers=bob)
        ).status_code == 403
        assert (await c.post("/api/v1/feeds", json={"person": "alice"}, headers=bob)).status_code == 403
        both = {"person": "bob", "schedule": "web-primary"}
        assert (await c.post("/api/v1/feeds", json=both, headers=bob)).status_code == 422


async def test_a_revoked_feed_url_stops_working_and_only_its_maker_or_an_admin_revokes(db_url, tmp_path):
    async with running_system(db_url, make_cfg(), tmp_path) as k, client(k) as c:
        bob, alice = await login(k, "bob", Scope.RESPOND), await login(k, "alice", Scope.RESPOND)
        made = (await c.post("/api/v1/feeds", json={"person": "bob"}, headers=bob)).json()
        assert [f["id"] for f in (await c.get("/api/v1/feeds", headers=bob)).json()["feeds"]] == [made["id"]]
        assert (await c.get("/api/v1/feeds", headers=alice)).json()["feeds"] == []
        assert (await c.delete(f"/api/v1/feeds/{made['id']}", headers=alice)).status_code == 403
        assert (await c.delete(f"/api/v1/feeds/{made['id']}", headers=bob)).status_code == 200
        assert (await c.get(made["url"])).status_code == 404
        assert (await c.get("/cal/not-a-token.ics")).status_code == 404
        actions = [
            e["action"] for e in (await c.get("/api/v1/audit", params={"kind": "feeds"})).json()["entries"]
        ]
        assert sorted(actions) == ["feeds.create", "feeds.revoke"]
