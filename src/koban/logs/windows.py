"""When a digest runs and which time window it covers, in the digest's zone. Pure: ``now`` is passed in.

A digest scheduled "every day at 09:00 Asia/Tokyo" with window ``yesterday`` covers the previous
local calendar day, whatever the UTC offset, and a day with a DST change is 23 or 25 hours long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from koban.routing.cron import last_fire as cron_last_fire

# A cron that fires less often than weekly is not a digest schedule we look back for.
_LOOKBACK = timedelta(days=8)


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime  # aware, UTC
    end: datetime  # exclusive

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


def last_fire(cron: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The latest minute at or before ``now`` the cron fires in ``zone`` (as UTC), or None within 8
    days. cronsim (``routing/cron.py``) applies cron's rules in a DST gap or repeat."""
    fired = cron_last_fire(cron, now.astimezone(zone))
    if fired is None or now - fired > _LOOKBACK:
        return None
    return fired.astimezone(UTC)


def _local_midnight(day: datetime, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def window_for(kind: str, fired: datetime, zone: ZoneInfo) -> Window:
    """The window a run fired at ``fired`` covers: ``yesterday`` and ``last_week`` in local days."""
    local = fired.astimezone(zone)
    if kind == "yesterday":
        today = local.date()
        yesterday = today - timedelta(days=1)
        return Window(_local_midnight(_as_dt(yesterday), zone), _local_midnight(_as_dt(today), zone))
    if kind == "last_week":
        monday = local.date() - timedelta(days=local.weekday())
        return Window(
            _local_midnight(_as_dt(monday - timedelta(days=7)), zone), _local_midnight(_as_dt(monday), zone)
        )
    span = {"last_24h": timedelta(hours=24), "last_7d": timedelta(days=7)}[kind]
    end = fired.astimezone(UTC)
    return Window(end - span, end)


def _as_dt(d: object) -> datetime:
    return datetime(d.year, d.month, d.day)  # type: ignore[attr-defined]
