"""Swaps on the schedule page, by role and without script: a responder asks to swap their own slot
(picked on the page), the taker takes it there, both are told and on call now changes; a manager
asks on anyone's behalf and approves an open swap; refusals come back as the page with a 4xx."""

from __future__ import annotations

import re

import sqlalchemy as sa

from koban.auth.permissions import Role
from koban.db.schema_auth import audit_events
from koban.db.schema_schedules import schedule_notices
from tests.support.system import running_system
from tests.web.pages_support import add_person, browser, form_csrf, sign_in
from tests.web.test_schedule_pages import _cfg

WEEK = "2027-01-15"  # the fake clock: Friday 2027-01-15 08:00 UTC, in bob's week of ops-week
PAGE = "/schedules/ops-week"


async def _picked(b, person: str) -> dict[str, str]:  # noqa: ANN001
    """The swap form's fields as the page fills them from ``person``'s first slot this week."""
    page = (await b.get(PAGE, params={"start": WEEK})).text
    picks = re.findall(rf"<td>{person}</td><td>[^<]*</td>\s*<td>.*?pick=(\d+:\d+)#swap", page)
    assert picks, page
    form = (await b.get(PAGE, params={"start": WEEK, "pick": picks[0]})).text
    start = re.search(r'id="s-start" name="start" required value="([^"]+)"', form).group(1)
    end = re.search(r'id="s-end" name="end" required value="([^"]+)"', form).group(1)
    return {"csrf": form_csrf(form), "week": WEEK, "start": start, "end": end}


async def _notice_keys(k) -> list[str]:  # noqa: ANN001
    async with k.db.read() as conn:
        return sorted(r.key for r in await conn.execute(sa.select(schedule_notices.c.key)))


async def _on_call_now(b) -> str:  # noqa: ANN001
    now = (await b.get("/oncall")).text
    per_schedule = now[now.index('id="now-h"') :]
    row = per_schedule[per_schedule.index(f'href="{PAGE}"') :]
    return row[: row.index("</tr>")]


async def test_a_responder_swaps_their_slot_from_the_page_and_the_taker_takes_it(db_url, tmp_path):
    async with running_system(db_url, _cfg(), tmp_path) as k:
        await add_person(k, "bob")
        await add_person(k, "alice")
        async with browser(k) as bob, browser(k) as alice:
            await sign_in(bob, "bob")
            form = await _picked(bob, "bob")
            for_alice = await bob.post(f"{PAGE}/swaps", data={**form, "requester": "alice", "taker": "carol"})
            assert for_alice.status_code == 403 and "only their own shift" in for_alice.text
            no_csrf = await bob.post(f"{PAGE}/swaps", data={**form, "csrf": "", "taker": "alice"})
            assert no_csrf.status_code == 403
            bad = await bob.post(f"{PAGE}/swaps", data={**form, "end": form["start"], "taker": "alice"})
            assert bad.status_code == 422 and "ends after it starts" in bad.text
            asked = await bob.post(f"{PAGE}/swaps", data={**form, "taker": "alice", "note": "dentist"})
            assert asked.status_code == 303, asked.text
            assert await _notice_keys(k) == ["swap:1:open:alice:log"]  # the taker is told
            mine = (await bob.get(PAGE, params={"start": WEEK})).text
            assert "Cancel swap #1" in mine and "Take swap #1" not in mine and "dentist" in mine

            await sign_in(alice, "alice")
            page = (await alice.get(PAGE, params={"start": WEEK})).text
            assert "Take swap #1" in page and "Cancel swap #1" not in page
            cancel = await alice.post(f"{PAGE}/swaps/1/cancel", data={"csrf": form_csrf(page), "week": WEEK})
            assert cancel.status_code == 403 and "requester or a manager" in cancel.text
            taken = await alice.post(f"{PAGE}/swaps/1/take", data={"csrf": form_csrf(page), "week": WEEK})
            assert taken.status_code == 303, taken.text
            assert '<td class="who-now">alice</td>' in await _on_call_now(alice)
            assert {"swap:1:taken:alice:log", "swap:1:taken:bob:log"} <= set(await _notice_keys(k))
            again = await alice.post(f"{PAGE}/swaps/1/take", data={"csrf": form_csrf(page), "week": WEEK})
            assert again.status_code == 409 and "swap 1 is taken" in again.text
            assert "No swap is open." in (await alice.get(PAGE, params={"start": WEEK})).text
        async with k.db.read() as conn:
            q = sa.select(audit_events.c.action, audit_events.c.actor, audit_events.c.via).order_by(
                audit_events.c.id
            )
            trail = [tuple(r) for r in await conn.execute(q) if r.action.startswith("schedules.")]
        assert trail == [
            ("schedules.swap.request", "bob", "ui"),
            ("schedules.swap.taken", "alice", "ui"),
            ("schedules.override.create", "alice", "ui"),
        ]


async def test_a_manager_asks_for_someone_else_and_approves_an_open_swap_naming_the_taker(db_url, tmp_path):
    async with running_system(db_url, _cfg(), tmp_path) as k:
        await add_person(k, "carol", Role.MANAGER)
        await add_person(k, "bob")
        async with browser(k) as carol, browser(k) as bob:
            await sign_in(carol, "carol")
            form = await _picked(carol, "bob")
            page = (await carol.get(PAGE, params={"start": WEEK})).text
            assert 'id="s-requester"' in page  # whose shift: a manager's choice
            asked = await carol.post(f"{PAGE}/swaps", data={**form, "requester": "bob", "taker": ""})
            assert asked.status_code == 303, asked.text
            assert await _notice_keys(k) == []  # open to the team: nobody named yet

            await sign_in(bob, "bob")
            theirs = (await bob.get(PAGE, params={"start": WEEK})).text
            assert "Cancel swap #1" in theirs and "Approve swap #1" not in theirs
            assert 'id="s-requester"' not in theirs
            not_manager = await bob.post(
                f"{PAGE}/swaps/1/approve", data={"csrf": form_csrf(theirs), "week": WEEK, "taker": "alice"}
            )
            assert not_manager.status_code == 403

            page = (await carol.get(PAGE, params={"start": WEEK})).text
            assert "Approve swap #1" in page
            csrf = form_csrf(page)
            approve = f"{PAGE}/swaps/1/approve"
            nobody = await carol.post(approve, data={"csrf": csrf, "week": WEEK, "taker": "bob"})
            assert nobody.status_code == 422 and "name the taker" in nobody.text
            unknown = await carol.post(f"{PAGE}/swaps/1/shuffle", data={"csrf": csrf, "week": WEEK})
            assert unknown.status_code == 404
            approved = await carol.post(
                f"{PAGE}/swaps/1/approve", data={"csrf": csrf, "week": WEEK, "taker": "alice"}
            )
            assert approved.status_code == 303, approved.text
            assert '<td class="who-now">alice</td>' in await _on_call_now(carol)
            assert {"swap:1:approved:alice:log", "swap:1:approved:bob:log"} <= set(await _notice_keys(k))
