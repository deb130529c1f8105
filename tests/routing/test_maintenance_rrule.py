"""Issue 17 item 18: maintenance windows gain RRULE, read by the same calendar code as schedules
(``core/recurrence.py``): the rule's occurrences from ``starts_at`` in the window's zone, each
lasting ``duration``; they mute alerts and leave reports' availability alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from koban.config.model_routing import Maintenance
from koban.domain.alerts import AlertAction
from koban.reports.maintenance import window_intervals
from koban.routing.maintenance import MaintenanceWindow, WindowKind, _starts, is_active
from koban.routing.mute import mute_reason
from koban.schedules.grid import grid
from koban.schedules.model import Layer, Rotation

H = timedelta(hours=1)
PARIS = "Europe/Paris"


def first_sunday(**kw: object) -> MaintenanceWindow:
    """02:00-04:00 Paris time on the first Sunday of each month, from January 2026."""
    return Maintenance.model_validate(
        {
            "id": "patching",
            "services": ["web"],
            "timezone": PARIS,
            "rrule": "FREQ=MONTHLY;BYDAY=1SU",
            "starts_at": "2026-01-04T02:00:00+01:00",
            "duration": "2h",
        }
        | kw
    ).to_window()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_daily_rule_years_old_is_expanded_once_not_on_every_check():
    w = first_sunday(rrule="FREQ=DAILY;BYHOUR=3", starts_at="2020-01-01T03:00:00+01:00", duration="1h")
    # 03:00-04:00 Paris (02:00-03:00 UTC in January) each day since 2020, checked every 7 minutes
    # for a day from 02:30 UTC: 5 checks in that day's window, 4 in the next day's.
    checks = [utc(2026, 1, 10, 2, 30) + timedelta(minutes=m) for m in range(0, 24 * 60, 7)]
    before = _starts.cache_info().misses
    assert sum(is_active(w, at) for at in checks) == 9
    assert _starts.cache_info().misses == before + 1  # one expansion, extended as time goes on


def test_an_rrule_window_is_active_for_its_duration_from_each_occurrence_in_its_zone():
    w = first_sunday()
    assert w.kind is WindowKind.RRULE
    # Sunday 5 April 2026 is the first Sunday; Paris is UTC+2 (CEST) by then: 02:00 is 00:00 UTC.
    assert not is_active(w, utc(2026, 4, 4, 23, 59))
    assert is_active(w, utc(2026, 4, 5, 0, 0))
    assert is_active(w, utc(2026, 4, 5, 1, 59))
    assert not is_active(w, utc(2026, 4, 5, 2, 0))
    assert not is_active(w, utc(2026, 4, 12, 0, 30))  # the second Sunday
    assert is_active(w, utc(2026, 2, 1, 1, 30))  # February: CET, 02:30 is 01:30 UTC
    assert not is_active(w, utc(2025, 12, 7, 1, 30))  # before its first occurrence


def test_an_occurrence_the_clocks_skip_starts_at_the_jump_as_a_schedule_handoff_does():
    # 02:30 does not exist in Paris on 2026-03-29: the window starts at the jump (03:00 CEST).
    w = first_sunday(rrule="FREQ=DAILY", starts_at="2026-03-20T02:30:00+01:00", duration="1h")
    assert not is_active(w, utc(2026, 3, 29, 0, 59))
    assert is_active(w, utc(2026, 3, 29, 1, 0))
    assert is_active(w, utc(2026, 3, 30, 0, 45))  # 02:45 CEST the next day
    # The same rule as a schedule layer's handoffs lands on the same instants.
    layer = Layer(
        name="l", members=("alice",), start=date(2026, 3, 20), handoff=time(2, 30),
        rotation=Rotation("daily", 1, "FREQ=DAILY"),
    )  # fmt: skip
    handoffs = grid(layer, ZoneInfo(PARIS))
    assert utc(2026, 3, 29, 1, 0).timestamp() == handoffs.at(9)
    intervals = window_intervals(w, utc(2026, 3, 20).timestamp(), utc(2026, 4, 1).timestamp())
    assert [iv.start for iv in intervals] == [handoffs.at(k) for k in range(12)]


def test_an_rrule_window_mutes_triggers_and_reports_leave_exactly_the_muted_minutes():
    w = first_sunday()
    kw = dict(action=AlertAction.TRIGGER, fingerprint="f", labels={}, windows=[w])
    assert mute_reason(service_id="web", now=utc(2026, 5, 3, 0, 30), **kw) == (
        "muted because maintenance window 'patching' (patching) is active"
    )
    assert mute_reason(service_id="web", now=utc(2026, 5, 10, 0, 30), **kw) is None
    since, until = utc(2026, 3, 1).timestamp(), utc(2026, 6, 1).timestamp()
    intervals = window_intervals(w, since, until)
    assert [(iv.end - iv.start) for iv in intervals] == [7200.0] * 3  # March, April, May
    for iv in intervals:
        for minute in (iv.start - 60, iv.start, iv.end - 60, iv.end):
            inside = iv.start <= minute < iv.end
            assert is_active(w, datetime.fromtimestamp(minute, UTC)) is inside


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rrule": "FREQ=SOMETIMES"}, "not an RFC 5545 RRULE"),
        ({"starts_at": None}, "needs an RRULE, starts_at"),
        ({"duration": "8d"}, "at most 7 days"),
        ({"ends_at": "2026-01-04T04:00:00+01:00"}, "no ends_at"),
        ({"rrule": "FREQ=DAILY;BYHOUR=2,14"}, "at most once a day on average: use cron"),
    ],
)
def test_a_bad_rrule_window_is_refused_with_what_is_wrong(change: dict, message: str):
    with pytest.raises(ValidationError, match=message):
        first_sunday(**change)
