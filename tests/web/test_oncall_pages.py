"""The on-call page, in process: who is on call now per team and schedule with the next handoffs,
gaps shown as gaps, only the schedules a person may see; their own shifts and a calendar link
made on the page (shown once, working without a login, on the audit trail)."""

from __future__ import annotations

import sqlalchemy as sa

from koban.config.model import ConfigFile
from koban.db.schema_auth import audit_events
from tests.support.factories import make_config
from tests.support.system import running_system
from tests.web.pages_support import add_person, browser, form_csrf, sign_in

WEEK = {"name": "week", "members": ["alice", "bob"], "start": "2027-01-04", "handoff": "09:00"}
OFFICE = {
    "name": "office",
    "members": ["carol"],
    "rotation": "daily",
    "start": "2027-01-04",
    "restrictions": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "17:00"}],
}


def _config(**bob: object) -> ConfigFile:
    data = make_config().model_dump(mode="json")
    data["people"][1].update(bob)
    data["teams"] = [
        {
            "id": "ops",
            "members": [{"person": "bob", "role": "responder"}, {"person": "alice", "role": "responder"}],
        },
        {"id": "other", "members": [{"person": "carol", "role": "manager"}]},
    ]
    data["schedules"] = [
        {"id": "ops-week", "team": "ops", "layers": [WEEK]},
        {"id": "office", "layers": [OFFICE]},
        {"id": "secret", "team": "other", "layers": [{**WEEK, "members": ["carol"]}]},
    ]
    return ConfigFile.model_validate(data)


async def test_on_call_now_per_schedule_with_next_handoffs_and_gaps(db_url, tmp_path):
    # The fake clock reads Friday 2027-01-15 08:00 UTC: bob's week (since the 11th, 09:00), and
    # the office layer not started yet (09:00): a gap.
    async with running_system(db_url, _config(), tmp_path) as k:
        await add_person(k, "bob")
        async with browser(k) as b:
            await sign_in(b, "bob")
            page = (await b.get("/oncall")).text
            assert "ops-week" in page and "office" in page and "secret" not in page
            per_schedule = page[page.index('id="now-h"') :]
            row = per_schedule[per_schedule.index('href="/schedules/ops-week"') :]
            row = row[: row.index("</tr>")]
            assert '<td class="who-now">bob</td>' in row and "Jan 18, 2027" in row and "→ alice" in row
            office = per_schedule[per_schedule.index('href="/schedules/office"') :]
            assert office.index('class="gap"') < office.index("</tr>")
            assert "→ carol" in office[: office.index("</tr>")]
            mine = page[page.index('id="mine-h"') : page.index('id="now-h"')]
            assert "ops-week" in mine and "office" not in mine
            only_ops = (await b.get("/oncall", params={"team": "ops"})).text
            assert "ops-week" in only_ops and 'href="/schedules/office"' not in only_ops


async def test_a_person_makes_a_calendar_link_of_their_shifts_on_the_page(db_url, tmp_path):
    async with running_system(db_url, _config(language="ja"), tmp_path) as k:
        await add_person(k, "bob")
        async with browser(k) as b:
            await sign_in(b, "bob")
            page = (await b.get("/oncall")).text
            assert "現在のオンコール" in page and "自分のシフト" in page
            made = await b.post("/oncall/feed", data={"csrf": form_csrf(page), "make": "ical"})
            assert made.status_code == 200
            url = made.text.split('class="notice"')[1].split('value="')[1].split('"')[0]
            assert url.startswith(k.settings.effective_public_url) and url.endswith(".ics")
            again = (await b.get("/oncall")).text
            assert url not in again  # shown once
        async with browser(k) as anyone:  # a calendar app: no login, the URL is the proof
            cal = await anyone.get(url.removeprefix(k.settings.effective_public_url))
            assert cal.status_code == 200 and "BEGIN:VCALENDAR" in cal.text and "ops-week" in cal.text
        async with k.db.read() as conn:
            entry = (
                await conn.execute(sa.select(audit_events).where(audit_events.c.action == "feeds.create"))
            ).one()
        assert (entry.actor, entry.via) == ("bob", "ui")


async def test_a_shift_from_an_imported_calendar_shows_as_paging_sees_it(db_url, tmp_path):
    from koban.db.schema_calendars import calendar_events

    data = _config().model_dump(mode="json")
    data["calendars"] = [{"id": "duty", "url": "https://calendar.example/duty.ics", "schedule": "ops-week"}]
    async with running_system(db_url, ConfigFile.model_validate(data), tmp_path) as k:
        now = k.clock.now()
        async with k.db.begin() as conn:  # what a fetch of the calendar stores (calendars/refresh.py)
            await conn.execute(
                sa.insert(calendar_events).values(
                    calendar_id="duty", uid="u1", recurrence_id="", start=now - 60, end=now + 3600,
                    summary="Carol", person="carol",
                )
            )  # fmt: skip
        for person in ("bob", "carol"):
            await add_person(k, person)
        async with browser(k) as b:
            await sign_in(b, "bob")
            page = (await b.get("/oncall")).text
        now_part = page[page.index('id="now-h"') :]
        row = now_part[now_part.index('href="/schedules/ops-week"') :]
        assert '<td class="who-now">carol</td>' in row[: row.index("</tr>")]  # not bob, as paging
        async with browser(k) as b:
            await sign_in(b, "carol")
            page = (await b.get("/oncall")).text
        assert "ops-week" in page[page.index('id="mine-h"') : page.index('id="now-h"')]  # in no layer of it
