"""When a scheduled report is due and which period it covers. Pure: ``now`` is passed in.

A schedule fires by its cron in its time zone (routing/cron.py). Each firing reports the last full
week (Monday to Monday) or calendar month before it, cut in the same zone, so a Monday 09:00 Tokyo
firing reports the previous Monday 00:00 to this Monday 00:00 Tokyo time. Only the latest firing
counts: a koban that was down over several firings sends the newest report once, not a flood.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from koban.config.model_reports import ReportSchedule
from koban.reports.records import Period
from koban.routing.cron import last_fire


@dataclass(frozen=True, slots=True)
class Due:
    fired_at: float
    period: Period


def period_before(at: datetime, grain: str) -> tuple[datetime, datetime]:
    """The last full ``week`` or ``month`` ending at or before ``at`` (aware), in ``at``'s zone."""
    zone = at.tzinfo
    day = at.date()
    if grain == "week":
        end_day = day - timedelta(days=day.weekday())
        start_day = end_day - timedelta(days=7)
    elif grain == "month":
        end_day = day.replace(day=1)
        start_day = (end_day - timedelta(days=1)).replace(day=1)
    else:
        raise ValueError(f"unknown period {grain!r}: use week or month")

    def midnight(d: date) -> datetime:
        # Wall-clock midnight in the zone (fold=0: the first of two, where a DST change repeats it).
        return datetime.combine(d, datetime.min.time(), tzinfo=zone)

    return midnight(start_day), midnight(end_day)


def due(schedule: ReportSchedule, now: float) -> Due | None:
    """The latest firing at or before ``now`` and the period it reports; None if it never fired."""
    if not schedule.enabled:
        return None
    zone = ZoneInfo(schedule.timezone)
    fired = last_fire(schedule.cron, datetime.fromtimestamp(now, zone))
    if fired is None:
        return None
    since, until = period_before(fired, schedule.period)
    return Due(fired.timestamp(), Period(since.timestamp(), until.timestamp(), schedule.timezone))
