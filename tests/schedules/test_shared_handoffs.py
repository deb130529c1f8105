"""Layers of many schedules share their handoffs and restriction windows (``resolve.handoffs`` and
``resolve.windows`` are cached per rotation, anchor, zone and period): each schedule must still get
its own people and member changes, and any period its own instants."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

import pytest

from koban.schedules.model import MemberChange, Override, Schedule, Window
from koban.schedules.resolve import Run, final, runs
from tests.schedules.factories import make_layer, make_schedule, utc

WEEKDAYS = frozenset(range(5))
NINE_TO_FIVE = (Window(WEEKDAYS, time(9, 0), time(17, 0)),)


def _two_layers(people: tuple[str, ...], tz: str = "Europe/Paris") -> Schedule:
    week = make_layer("week", people[:2], "weekly", start=date(2025, 1, 6), handoff=time(0, 0))
    days = make_layer("days", people[2:], "daily", start=date(2025, 1, 6), restrictions=NINE_TO_FIVE)
    return make_schedule(tz, week, days)


def _hours(slots: list[Run], into: dict[str, float] | None = None) -> dict[str, float]:
    out = into if into is not None else {}
    for start, end, people, *_ in slots:
        for p in people:
            out[p] = out.get(p, 0.0) + (end - start) / 3600
    return out


def test_schedules_sharing_a_rotation_and_zone_keep_their_own_people_and_changes() -> None:
    period = (utc(2026, 3, 1), utc(2026, 4, 1))  # Paris springs forward within it
    first = _two_layers(("alice", "bob", "carol", "dave"))
    second = _two_layers(("erin", "frank", "grace", "heidi"))
    week = second.layers[0]
    changed = replace(
        second, layers=(replace(week, changes=(MemberChange(utc(2026, 3, 18), ("ivan",)),)), second.layers[1])
    )
    a, b, c = final(first, [], *period), final(second, [], *period), final(changed, [], *period)
    rename = dict(zip(("alice", "bob", "carol", "dave"), ("erin", "frank", "grace", "heidi"), strict=True))
    assert [(x.start, x.end, tuple(rename[p] for p in x.people)) for x in a] == [
        (x.start, x.end, x.people) for x in b
    ]
    # The change takes effect at the first Monday handoff after it (23 March, 00:00 Paris).
    assert {p for x in c if x.start >= utc(2026, 3, 22, 23) and x.layer == "week" for p in x.people} == {
        "ivan"
    }
    assert [x for x in c if x.end <= utc(2026, 3, 22, 23)] == [x for x in b if x.end <= utc(2026, 3, 22, 23)]


@pytest.mark.parametrize("tz", ["Europe/Paris", "America/New_York", "Asia/Tokyo"])
def test_a_year_resolved_by_month_adds_up_to_the_year_at_once(tz: str) -> None:
    s = _two_layers(("alice", "bob", "carol", "dave"), tz)
    overrides = [Override(utc(2026, m, 3, 8), utc(2026, m, 3, 16), "erin", id=f"o{m}") for m in range(1, 13)]
    bounds = [utc(2026, m, 1) for m in range(1, 13)] + [utc(2027, 1, 1)]
    by_month: dict[str, float] = {}
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        _hours(runs(s, overrides, lo, hi), by_month)
    year = _hours(runs(s, overrides, bounds[0], bounds[-1]))
    assert year == pytest.approx(by_month, abs=1e-9)
    assert year["erin"] == pytest.approx(12 * 8)
    assert [tuple(vars_of) for vars_of in runs(s, overrides, bounds[0], bounds[-1])] == [
        (x.start, x.end, x.people, x.source, x.layer, x.overrides)
        for x in final(s, overrides, bounds[0], bounds[-1])
    ]
