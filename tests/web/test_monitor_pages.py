"""The monitor pages, in process: the list searched and filtered by state, tag and location on the
server, paged; one monitor's graphs drawn from stored rollups (failures marked, locations side by
side, zoom links), its uptime per day and recent results; teams see only their monitors."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from koban.auth.permissions import Role
from koban.config.model import ConfigFile
from koban.db.schema_probes import monitor_state
from koban.monitoring.store import ProbeStore
from koban.probes import rollup_codec
from koban.probes.result import Phases, ProbeResult
from koban.probes.rollup import METRICS, Histogram
from tests.support.factories import make_config
from tests.support.system import running_system
from tests.web.pages_support import add_person, browser, sign_in


def _config(monitors: list[dict]) -> ConfigFile:
    data = make_config().model_dump(mode="json")
    data["teams"] = [{"id": "ops", "members": [{"person": "bob", "role": "responder"}]}]
    data["services"].append({"id": "shop", "policy": "default", "team": "ops"})
    data["services"][0]["team"] = None
    return ConfigFile.model_validate({**data, "monitors": monitors})


def _monitor(ident: str, service: str = "web", **kw: object) -> dict:
    return {"id": ident, "service": service, "target": f"http://127.0.0.1:9/{ident}", **kw}


async def _state(k, **states: str) -> None:
    async with k.db.begin() as conn:
        for ident, status in states.items():
            await conn.execute(
                sa.insert(monitor_state).values(
                    monitor_id=ident,
                    status=status,
                    reason="failing" if status == "down" else "",
                    since=k.clock.now(),
                    version=1,
                    updated_at=k.clock.now(),
                )
            )


def _result(ident: str, location: str, at: float, seconds: float, ok: bool = True) -> ProbeResult:
    return ProbeResult(
        kind="http",
        target="",
        success=ok,
        started_at=datetime.fromtimestamp(at, UTC),
        duration=seconds,
        phases=Phases(
            resolve=seconds / 10, connect=seconds / 5, processing=seconds / 2, transfer=seconds / 5
        ),
        status_code=200 if ok else 0,
        error="" if ok else "connection refused",
        monitor_id=ident,
        location=location,
        final=True,
    )


async def test_the_list_is_searched_and_filtered_on_the_server_and_paged(db_url, tmp_path):
    monitors = [_monitor(f"m-{i:03d}", tags=["even" if i % 2 == 0 else "odd"]) for i in range(150)]
    monitors.append(_monitor("tokyo-api", name="Tokyo <API>", locations=["local", "tokyo"], tags=["odd"]))
    async with running_system(db_url, _config(monitors), tmp_path) as k:
        await _state(k, **{"m-007": "down", "m-008": "up", "tokyo-api": "down"})
        await add_person(k, "alice", Role.VIEWER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            first = (await b.get("/monitors")).text
            assert "151 monitors" in first and "m-099" in first and "m-100" not in first
            assert 'href="/monitors?page=1"' in first
            second = (await b.get("/monitors", params={"page": 1})).text
            assert "m-100" in second and "m-099<" not in second
            found = (await b.get("/monitors", params={"q": "TOKYO"})).text
            assert "1 monitors" in found and "Tokyo &lt;API&gt;" in found and "<API>" not in found
            down = (await b.get("/monitors", params={"state": "down"})).text
            assert re.findall(r'href="/monitors/([\w-]+)"', down) == ["m-007", "tokyo-api"]
            down_odd = (await b.get("/monitors", params={"state": "down", "tag": "even"})).text
            assert "No monitors match" in down_odd
            up = (await b.get("/monitors", params={"state": "up"})).text
            assert re.findall(r'href="/monitors/([\w-]+)"', up) == ["m-008"]
            unknown = (await b.get("/monitors", params={"state": "unknown"})).text
            assert "m-000" in unknown and "m-007" not in unknown and "m-008" not in unknown
            tokyo = (await b.get("/monitors", params={"location": "tokyo"})).text
            assert re.findall(r'href="/monitors/([\w-]+)"', tokyo) == ["tokyo-api"]
            evens = (await b.get("/monitors", params={"tag": "even"})).text
            assert "75 monitors" in evens


async def test_a_team_member_sees_only_their_teams_and_unowned_monitors(db_url, tmp_path):
    monitors = [_monitor("public-home"), _monitor("shop-cart", service="shop")]
    cfg = _config(monitors)
    data = cfg.model_dump(mode="json")
    data["teams"].append({"id": "other", "members": [{"person": "carol", "role": "responder"}]})
    data["services"][0]["team"] = "other"  # web belongs to another team now
    async with running_system(db_url, ConfigFile.model_validate(data), tmp_path) as k:
        await add_person(k, "bob")
        async with browser(k) as b:
            await sign_in(b, "bob")
            page = (await b.get("/monitors")).text
            assert "shop-cart" in page and "public-home" not in page
            assert (await b.get("/monitors/shop-cart")).status_code == 200
            refused = await b.get("/monitors/public-home")
            assert refused.status_code == 403 and "<html" in refused.text
            assert (await b.get("/monitors/nope")).status_code in (403, 404)


async def test_a_monitors_page_draws_its_graphs_from_the_stored_history(db_url, tmp_path):
    monitors = [_monitor("api", name="API", locations=["local", "tokyo"], tags=["edge"])]
    async with running_system(db_url, _config(monitors), tmp_path) as k:
        now = k.clock.now()
        for location, seconds, bad in (("local", 0.05, 30), ("tokyo", 0.2, 40)):
            store = ProbeStore(k.db, location, k.clock)
            batch = [
                _result("api", location, now - 3600 + i * 60, seconds * (1 + i % 3), ok=i != bad)
                for i in range(60)
            ]
            await store.write(batch, {})
            await store.flush_rollups()
        await _state(k, api="up")
        await add_person(k, "alice", Role.VIEWER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            r = await b.get("/monitors/api", params={"range": "1h"})
            assert r.status_code == 200, r.text
            page = r.text
            assert page.count("<svg viewBox") == 3  # bands, phases, locations side by side
            assert 'class="failure"' in page and page.count("1 of 2 failed") == 2  # a failed minute each
            assert "local" in page and "tokyo" in page and "connection refused" in page
            slices = re.findall(r'<a href="(/monitors/api\?since=\d+&amp;until=\d+)" class="slice"', page)
            assert len(slices) == 8
            zoomed = await b.get(slices[-1].replace("&amp;", "&"))
            assert zoomed.status_code == 200 and 'aria-current="true"' not in zoomed.text
            assert "120 probes, 2 failed" in page
            assert "98.33 %" in page  # uptime: 118 of 120
            year = await b.get("/monitors/api", params={"range": "1y"})
            assert year.status_code == 200 and "<path" in year.text


async def test_the_monitor_pages_speak_japanese(db_url, tmp_path):
    cfg = _config([_monitor("api")])
    data = cfg.model_dump(mode="json")
    data["people"][0].update(language="ja")
    async with running_system(db_url, ConfigFile.model_validate(data), tmp_path) as k:
        await add_person(k, "alice", Role.VIEWER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            listed = (await b.get("/monitors")).text
            assert "監視" in listed and 'lang="ja"' in listed
            one = (await b.get("/monitors/api")).text
            assert "応答時間" in one and "を拡大" in one and "日ごとの稼働率" in one


class _Row:
    """A stored rollup row as ``probe_queries.windows`` reads it."""

    def __init__(self, start: float, seconds: float, failures: int = 0, series_id: int = 1) -> None:
        hists = {m: Histogram() for m in METRICS}
        for m in METRICS:
            hists[m].add(seconds)
        self.series_id, self.width, self.start, self.failures = series_id, 60, start, failures
        self.metrics = rollup_codec.encode(hists, 1)
        self._mapping = {"count": 1}


def test_a_graph_draws_no_more_points_than_it_has_room_for_and_loses_no_failure():
    from koban.monitoring import graph_points
    from koban.web import graph_svg as g

    day = [
        _Row(i * 60.0, 1.2 if i == 900 else 0.1 + (i % 2) * 0.1, 1 if i == 700 else 0) for i in range(1440)
    ]
    grouped = graph_points.group_width(60.0, 0.0, 86400.0, g.MAX_POINTS)
    assert grouped == 300.0
    points = graph_points.windows(day, {1: "local"}, None, grouped)
    assert len(points) == 288 and [p.at for p in points[:2]] == [0.0, 300.0]
    assert sum(p.failures for p in points) == 1 and sum(p.count for p in points) == 1440
    assert [p.at for p in points if p.failures] == [700 * 60 // 300 * 300]
    assert max(p.seconds["total"]["p95"] for p in points) == 1.2  # a spike survives grouping
    assert max(p.seconds["total"]["max"] for p in points) == 1.2
    assert points[0].seconds["total"]["p50"] == pytest.approx(0.14)  # the mean of 0.1, 0.2, 0.1, 0.2, 0.1
    # An hour of minutes has room as it is: each window's own values, not a weighted mean's.
    assert graph_points.group_width(60.0, 0.0, 3600.0, g.MAX_POINTS) == 0.0
    hour = graph_points.windows(day[:60], {1: "local"}, None)
    assert [p.at for p in hour] == [i * 60.0 for i in range(60)]
    assert {p.seconds["connect"]["avg"] for p in hour} == {0.1, 0.2}


def test_two_locations_of_one_window_are_merged_exactly_and_shown_apart_on_request():
    from koban.monitoring import graph_points

    rows = [_Row(0.0, 0.1, series_id=1), _Row(0.0, 0.3, 1, series_id=2), _Row(60.0, 0.2, series_id=1)]
    series = {1: "local", 2: "tokyo"}
    both = graph_points.windows(rows, series, None)
    assert [(p.at, p.count, p.failures, p.location) for p in both] == [(0.0, 2, 1, None), (60.0, 1, 0, None)]
    assert both[0].seconds["total"]["max"] == 0.3 and both[0].seconds["total"]["avg"] == pytest.approx(0.2)
    tokyo = graph_points.windows([rows[1]], series, "tokyo")
    assert [(p.location, p.seconds["total"]["p50"]) for p in tokyo] == [("tokyo", 0.3)]
    assert tokyo[0].as_json()["uptime"] == 0.0 and tokyo[0].as_json()["start"].startswith("1970-01-01T00:00")
