"""``/settings/audit``, in process: newest first, paged by id both ways, filtered by person, kind
and time (in the viewer's zone); bad input is a 4xx page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

from koban.auth.audit import Change, Door, Origin, record
from koban.auth.permissions import Role
from koban.config.model import ConfigFile
from tests.support.factories import make_config
from tests.support.system import running_system
from tests.web.pages_support import add_person, browser, sign_in

HOUR = 3600.0


def _config() -> ConfigFile:
    data = make_config().model_dump(mode="json")
    data["people"][0]["timezone"] = "Asia/Tokyo"  # alice reads local times in Tokyo (UTC+9)
    return ConfigFile.model_validate(data)


async def _seed(k, n: int) -> float:
    """``n`` entries an hour apart, by bob and carol in turn, about tokens and people in turn."""
    start = k.clock.now() - n * HOUR
    async with k.db.begin() as conn:
        for i in range(n):
            who = ("bob", "carol")[i % 2]
            change = Change(f"x.{i}", ("token", "people")[i % 2], str(i), None, {"n": i})
            await record(conn, Origin(who, Door.API, "127.0.0.1"), [change], start + i * HOUR)
    return start


def _actions(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"<code>x\.(\d+)</code>", html)]


def _tokyo(ts: float) -> str:
    """What a ``datetime-local`` field holds for this instant in Tokyo (UTC+9, no summer time)."""
    return (datetime.fromtimestamp(ts, UTC) + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M")


def _link(html: str, rel: str) -> str:
    return unescape(re.search(rf'<a href="([^"]+)" rel="{rel}">', html).group(1))


async def test_the_trail_is_paged_by_id_both_ways(db_url, tmp_path):
    async with running_system(db_url, _config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        await _seed(k, 120)
        async with browser(k) as b:
            await sign_in(b, "alice")  # the sign-in is on the trail too, the newest entry
            first = (await b.get("/settings/audit")).text
            assert _actions(first) == list(range(119, 70, -1))  # 49 seeded after the login's entry
            assert 'rel="prev"' not in first
            second = (await b.get(_link(first, "next"))).text
            assert _actions(second) == list(range(70, 20, -1))
            third = (await b.get(_link(second, "next"))).text
            assert _actions(third) == list(range(20, -1, -1)) and 'rel="next"' not in third
            back = (await b.get(_link(third, "prev"))).text
            assert _actions(back) == _actions(second)


async def test_the_trail_is_filtered_by_person_kind_and_local_time(db_url, tmp_path):
    async with running_system(db_url, _config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        start = await _seed(k, 10)
        async with browser(k) as b:
            await sign_in(b, "alice")
            bob = (await b.get("/settings/audit", params={"person": "bob"})).text
            assert _actions(bob) == [8, 6, 4, 2, 0]
            people = (await b.get("/settings/audit", params={"kind": "people", "person": "carol"})).text
            assert _actions(people) == [9, 7, 5, 3, 1]
            # Entries 2 to 4, asked in alice's Tokyo time.
            window = {"since": _tokyo(start + 2 * HOUR), "until": _tokyo(start + 5 * HOUR)}
            assert _actions((await b.get("/settings/audit", params=window)).text) == [4, 3, 2]
            bad = await b.get("/settings/audit", params={"since": "yesterday"})
            assert bad.status_code == 422 and "not a time" in bad.text
            assert (await b.get("/settings/audit", params={"before": "x"})).status_code == 422
