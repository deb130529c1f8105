"""The schedule page, in process: the week as a calendar (final schedule with gaps in red, layers,
overrides, members' time zones) and an override made by picking a slot, by the person's role: a
responder hands over only their own shift, and "on call now" changes at once."""

from __future__ import annotations

import re

import sqlalchemy as sa

from koban.db.schema_auth import audit_events
from tests.support.system import running_system
from tests.web.pages_support import add_person, browser, form_csrf, sign_in
from tests.web.test_oncall_pages import _config


def _cfg():
    cfg = _config(timezone="Asia/Tokyo")
    data = cfg.model_dump(mode="json")
    data["schedules"][0]["layers"].append({**data["schedules"][1]["layers"][0], "name": "office"})
    return type(cfg).model_validate(data)


async def test_the_week_shows_the_final_schedule_its_layers_gaps_and_members_zones(db_url, tmp_path):
    async with running_system(db_url, _cfg(), tmp_path) as k:
        await add_person(k, "bob")
        async with browser(k) as b:
            await sign_in(b, "bob")
            page = (await b.get("/schedules/office", params={"start": "2027-01-15"})).text
            assert page.count("<svg") == 2 and 'class="gap-box"' in page and 'fill="#b3261e"' in page
            assert 'class="gap-row"' in page and "Nobody (a gap)" in page
            week = (await b.get("/schedules/ops-week", params={"start": "2027-01-11"})).text
            assert ">week<" in week and ">office<" in week  # a row per layer
            assert "Asia/Tokyo" in week  # bob's zone on the time-zone bar
            assert (await b.get("/schedules/secret")).status_code == 403  # another team's


async def test_a_responder_covers_their_own_slot_and_on_call_now_changes(db_url, tmp_path):
    async with running_system(db_url, _cfg(), tmp_path) as k:
        await add_person(k, "bob")
        async with browser(k) as b:
            await sign_in(b, "bob")
            page = (await b.get("/schedules/ops-week", params={"start": "2027-01-15"})).text
            bobs = re.findall(
                r"<td>bob</td><td>[^<]*</td>\s*<td><a href=\"[^\"]*pick=(\d+:\d+)#override", page
            )
            assert bobs, page
            first = (await b.get("/schedules/ops-week", params={"start": "2027-01-15", "pick": bobs[0]})).text
            start = re.search(r'id="o-start" name="start" required value="([^"]+)"', first).group(1)
            end = re.search(r'id="o-end" name="end" required value="([^"]+)"', first).group(1)
            assert '<option value="bob" selected>' in first  # the slot's person is the one replaced
            form = {"csrf": form_csrf(first), "week": "2027-01-15", "start": start, "end": end}
            not_mine = await b.post(
                "/schedules/ops-week/overrides",
                data={**form, "kind": "replace", "replaces": "alice", "person": "carol"},
            )
            assert not_mine.status_code == 403 and "only their own shift" in not_mine.text
            done = await b.post(
                "/schedules/ops-week/overrides",
                data={**form, "kind": "replace", "replaces": "bob", "person": "alice"},
            )
            assert done.status_code == 303, done.text
            now = (await b.get("/oncall")).text
            per_schedule = now[now.index('id="now-h"') :]
            row = per_schedule[per_schedule.index('href="/schedules/ops-week"') :]
            assert '<td class="who-now">alice</td>' in row[: row.index("</tr>")]
            bad = await b.post("/schedules/ops-week/overrides", data={**form, "start": "soon"})
            assert bad.status_code == 422
        async with k.db.read() as conn:
            entry = (
                await conn.execute(
                    sa.select(audit_events).where(audit_events.c.action == "schedules.override.create")
                )
            ).one()
        assert (entry.actor, entry.via) == ("bob", "ui")
