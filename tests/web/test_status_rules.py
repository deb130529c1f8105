"""What a status page says, as a pure function of plain records: states, daily bars, which incidents
show, maintenance; and the status_pages config's own checks."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from koban.config.model import ConfigFile
from koban.config.model_status import StatusPage
from koban.config.references import check_references
from koban.reports.records import Interval
from koban.web import status_rules as r

NOW = 1_800_000_000.0
TODAY = NOW - NOW % r.DAY
PAGE = StatusPage.model_validate(
    {
        "id": "shop",
        "title": {"en": "Shop", "ja": "ショップ"},
        "groups": [
            {"title": "Front", "items": [{"service": "web", "name": {"en": "Website", "ja": "ウェブ"}}]},
            {"title": "Pay", "items": [{"monitor": "pay-1", "name": "Payments"}]},
        ],
    }
)


def facts(**kw: Any) -> r.Facts:
    base: dict[str, Any] = {
        "monitor_service": {"web-1": "web", "web-2": "web", "pay-1": "pay"},
        "monitor_states": {"web-1": "up", "web-2": "up", "pay-1": "up"},
        "daily": {},
        "incidents": (),
        "maintenance": {},
    }
    return r.Facts(**{**base, **kw})


def states(f: r.Facts) -> list[str]:
    return [i.state for g in r.view(PAGE, f, NOW, "en").groups for i in g.items]


def test_a_service_is_as_down_as_its_monitors() -> None:
    assert states(facts()) == ["operational", "operational"]
    assert states(facts(monitor_states={"web-1": "down", "web-2": "up", "pay-1": "up"})) == [
        "degraded",
        "operational",
    ]
    assert states(facts(monitor_states={"web-1": "down", "web-2": "down", "pay-1": "down"})) == [
        "outage",
        "outage",
    ]
    assert states(facts(monitor_states={})) == ["unknown", "unknown"]
    assert r.view(PAGE, facts(monitor_states={"web-1": "down"}), NOW, "en").state == "outage"


def test_only_incidents_with_a_public_update_touching_a_listed_item_show() -> None:
    update = r.Update("investigating", "Looking into it", NOW - 60)
    silent = r.Published("web", "disk", True, ())
    elsewhere = r.Published("billing", "x", True, (update,))
    shown = r.Published("pay", "monitor:pay-1", True, (update,))
    v = r.view(PAGE, facts(incidents=(silent, elsewhere, shown)), NOW, "en")
    assert [(i.affects, i.status) for i in v.incidents] == [(("Payments",), "investigating")]
    assert [i.state for g in v.groups for i in g.items] == ["operational", "degraded"]
    done = r.Published("pay", "monitor:pay-1", True, (r.Update("resolved", "Fixed", NOW), update))
    assert states(facts(incidents=(done,))) == ["operational", "operational"]


def test_maintenance_shows_ahead_and_marks_the_item_while_it_runs() -> None:
    ahead = Interval(NOW + 3600, NOW + 7200, "db-upgrade")
    v = r.view(PAGE, facts(maintenance={"web": [ahead]}), NOW, "ja")
    assert [(m.affects, m.active) for m in v.maintenance] == [(("ウェブ",), False)]
    assert "db-upgrade" not in repr(v)  # a window's own name stays inside
    running = Interval(NOW - 60, NOW + 60, "x")
    assert states(facts(maintenance={"web": [running]})) == ["maintenance", "operational"]


def test_the_bars_are_ninety_days_of_each_items_daily_uptime() -> None:
    daily = {"service:web": {TODAY: 0.98, TODAY - r.DAY: 0.9}}
    v = r.view(PAGE, facts(daily=daily), NOW, "en")
    web = v.groups[0].items[0]
    assert len(web.bars) == r.DAYS and web.bars[-1].day == TODAY
    assert [(b.uptime, b.grade) for b in web.bars[-2:]] == [(0.9, "major"), (0.98, "minor")]
    assert web.bars[0].grade == "none" and web.uptime == pytest.approx(0.94)
    assert v.groups[1].items[0].uptime is None
    assert r.grade(0.999) == "good" and r.grade(None) == "none"


def test_the_config_checks_what_a_status_page_names() -> None:
    bad = ConfigFile.model_validate(
        {
            "status_pages": [
                {
                    "id": "a",
                    "slug": "x",
                    "title": "A",
                    "groups": [{"title": "g", "items": [{"monitor": "m", "name": "M"}]}],
                },
                {
                    "id": "b",
                    "slug": "x",
                    "title": "B",
                    "groups": [{"title": "g", "items": [{"service": "s", "name": "S"}]}],
                },
                {
                    "id": "Bad_Id",
                    "title": "C",
                    "groups": [{"title": "g", "items": [{"service": "s", "name": "S"}]}],
                },
            ]
        }
    )
    found = {(loc, msg) for loc, msg in check_references(bad)}
    assert (("status_pages", 0, "groups", 0, "items", 0, "monitor"), "unknown monitor 'm'") in found
    assert (("status_pages", 1, "slug"), "another status page answers at /status/x too") in found
    assert any(loc == ("status_pages", 2, "id") for loc, _ in found)
    with pytest.raises(ValidationError):
        StatusPage.model_validate({**PAGE.model_dump(), "slug": "Not A Slug"})
    assert PAGE.title.in_language("ja") == "ショップ" and PAGE.groups[1].title.in_language("ja") == "Pay"
