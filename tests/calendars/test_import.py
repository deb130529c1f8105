"""Importing an iCal feed over HTTP: conditional fetches, status, the last good copy, and the
schedule it fills deciding who is paged (koban.calendars.refresh, paging/on_call.py)."""

from __future__ import annotations

import sqlalchemy as sa

from koban.calendars.refresh import refresh
from koban.config.model import ConfigFile
from koban.db import schema as t
from koban.db.schema_auth import audit_events
from tests.calendars.feeds import Feed, ical, serving
from tests.support.factories import KEY, make_config
from tests.support.system import client, running_system


def config(url: str) -> ConfigFile:
    data = make_config(steps=[{"notify": [{"schedule": "desk"}], "escalate_after": "5m"}]).model_dump(
        mode="json"
    )
    layer = {"members": ["alice"], "start": "2026-01-05", "rotation": "weekly", "name": "base"}
    data["schedules"] = [{"id": "desk", "timezone": "Asia/Tokyo", "layers": [layer]}]
    data["calendars"] = [{"id": "duty", "url": url, "schedule": "desk", "every": "5m"}]
    return ConfigFile.model_validate(data)


async def paged(k, c, dedup: str) -> list[str]:
    made = await c.post(f"/api/v1/ingest/{KEY}", json={"summary": "disk full", "dedup_key": dedup})
    assert made.status_code in (200, 202), made.text
    async with k.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.deliveries.c.person_id).order_by(t.deliveries.c.id.desc()).limit(1)
        )
        return [r[0] for r in rows]


async def test_a_changed_feed_changes_who_is_paged_at_the_next_fetch(db_url, tmp_path):
    feed = Feed()
    async with serving(feed), running_system(db_url, config(feed.url), tmp_path) as k, client(k) as c:
        now = k.clock.now()
        feed.body = ical(("shift-1", now - 3600, now + 86400, "Bob"))
        assert await k.calendars.tick() >= 1
        assert await paged(k, c, "one") == ["bob"]
        feed.body = ical(("shift-1", now - 3600, now + 86400, "carol"))
        k.clock.advance(60)
        await k.calendars.tick()  # not due yet: still bob
        assert await paged(k, c, "two") == ["bob"]
        k.clock.advance(300)
        await k.calendars.tick()
        assert await paged(k, c, "three") == ["carol"]
        feed.body = ical()  # the shift is gone: the schedule's own layer again
        k.clock.advance(300)
        await k.calendars.tick()
        assert await paged(k, c, "four") == ["alice"]


async def test_an_unchanged_feed_is_answered_304_and_kept(db_url, tmp_path):
    feed = Feed()
    async with serving(feed), running_system(db_url, config(feed.url), tmp_path) as k, client(k) as c:
        now = k.clock.now()
        feed.body = ical(("s", now - 60, now + 3600, "bob"))
        cal = k.catalog.calendars["duty"]
        for _ in range(3):
            assert (await refresh(k.deps, cal, k.clock.now(), force=True)).error is None
        assert (feed.requests, feed.not_modified) == (3, 2)
        assert feed.seen_etags[0] is None and feed.seen_etags[1] is not None
        assert await paged(k, c, "x") == ["bob"]


async def test_a_feed_dated_by_last_modified_is_asked_if_modified_since_and_kept_on_304(db_url, tmp_path):
    feed = Feed(last_modified="Wed, 06 Jan 2027 10:00:00 GMT")
    async with serving(feed), running_system(db_url, config(feed.url), tmp_path) as k, client(k) as c:
        now = k.clock.now()
        feed.body = ical(("s", now - 60, now + 3600, "bob"))
        cal = k.catalog.calendars["duty"]
        for _ in range(2):
            assert (await refresh(k.deps, cal, k.clock.now(), force=True)).error is None
        assert feed.seen_since == [None, "Wed, 06 Jan 2027 10:00:00 GMT"] and feed.not_modified == 1
        assert await paged(k, c, "x") == ["bob"]  # the copy held, read again
        feed.body, feed.last_modified = (
            ical(("s", now - 60, now + 3600, "carol")),
            "Thu, 07 Jan 2027 10:00:00 GMT",
        )
        assert (await refresh(k.deps, cal, k.clock.now(), force=True)).events == 1
        assert await paged(k, c, "y") == ["carol"]


def test_a_calendar_is_fetched_every_five_minutes_unless_it_says_otherwise():
    from koban.config.model_calendars import Calendar

    assert Calendar(id="c", url="https://example.test/c.ics").every == 300.0


async def test_an_html_page_is_an_error_on_the_status_and_the_last_good_copy_stays(db_url, tmp_path):
    feed = Feed()
    async with serving(feed), running_system(db_url, config(feed.url), tmp_path) as k, client(k) as c:
        now = k.clock.now()
        feed.body = ical(("s", now - 60, now + 86400, "bob"))
        ok = (await c.post("/api/v1/calendars/duty/refresh")).json()
        assert ok["error"] is None and ok["events"] == 1 and ok["last_success_at"] == now
        feed.body, feed.content_type = "<!DOCTYPE html><html>Sign in to continue</html>", "text/html"
        k.clock.advance(10)
        bad = (await c.post("/api/v1/calendars/duty/refresh")).json()
        assert "HTML page" in bad["error"]
        assert (bad["last_fetch_at"], bad["last_success_at"]) == (now + 10, now)
        assert await paged(k, c, "still-bob") == ["bob"]
        [listed] = (await c.get("/api/v1/calendars")).json()["calendars"]
        assert listed["id"] == "duty" and "HTML page" in listed["error"]
        assert (await c.post("/api/v1/calendars/nope/refresh")).status_code == 404
        async with k.db.read() as conn:
            a = audit_events.c
            q = (
                sa.select(a.action, a.object_id, a.after)
                .where(a.action == "calendars.refresh")
                .order_by(a.id)
            )
            trail = [tuple(r) for r in await conn.execute(q)]
        assert [(x[1], x[2]["events"], x[2]["error"] is None) for x in trail] == [
            ("duty", 1, True),
            ("duty", 0, False),
        ]


async def test_a_calendar_shift_shows_in_who_is_on_call_and_the_final_schedule(db_url, tmp_path):
    feed = Feed()
    async with serving(feed), running_system(db_url, config(feed.url), tmp_path) as k, client(k) as c:
        now = k.clock.now()
        feed.body = ical(("shift-1", now - 3600, now + 7200, "Bob"))
        await k.calendars.tick()
        [desk] = (await c.get("/api/v1/oncall", params={"schedule": "desk"})).json()["oncall"]
        assert desk["people"] == ["bob"] and desk["source"] == "override:calendar:duty:shift-1"
        later = (await c.get("/api/v1/oncall", params={"at": now + 3 * 3600})).json()["oncall"]
        assert later[0]["people"] == ["alice"]  # after the calendar's shift: the layer again
        slots = (await c.get("/api/v1/schedules/desk/final")).json()["slots"]
        assert [s["people"] for s in slots[:2]] == [["bob"], ["alice"]]
        # bob is in no layer of desk: the calendar alone names him, and his upcoming shifts say so.
        [mine] = (await c.get("/api/v1/oncall/shifts", params={"person": "bob"})).json()["shifts"]
        assert (mine["schedule"], mine["source"]) == ("desk", "override:calendar:duty:shift-1")


async def test_an_unexpected_failure_is_on_the_status_too_and_the_last_good_copy_stays(
    db_url, tmp_path, monkeypatch
):
    import koban.calendars.refresh as refreshing

    feed = Feed()
    async with serving(feed), running_system(db_url, config(feed.url), tmp_path) as k, client(k) as c:
        now = k.clock.now()
        feed.body = ical(("s", now - 60, now + 86400, "bob"))
        assert (await c.post("/api/v1/calendars/duty/refresh")).json()["error"] is None

        def broken(*args, **kw):
            raise RuntimeError("the library tripped")  # not a FeedError: a CalDAV server's bad XML, a bug

        monkeypatch.setattr(refreshing, "parse_feed", broken)
        feed.body = ical(("s", now - 60, now + 86400, "carol"))
        k.clock.advance(10)
        bad = (await c.post("/api/v1/calendars/duty/refresh")).json()
        assert bad["error"] == "unexpected error: RuntimeError: the library tripped"
        assert (bad["last_fetch_at"], bad["last_success_at"]) == (now + 10, now)
        assert await paged(k, c, "still-bob") == ["bob"]
