"""A layer's handoffs: the instant shift k starts, and the shift in progress at an instant (pure).

Shift k of a layer runs from handoff k to handoff k + 1; handoff 0 is the anchor (the layer's
``start`` date at its ``handoff`` time). Daily, weekly, monthly and RRULE handoffs are wall-clock
times in the schedule's zone (``local_time.instant`` applies the DST rules); hourly ones are every
N × 3600 s of elapsed time from the anchor, since a wall-clock hour can be missing or doubled.
Monthly handoffs keep the anchor's day of the month, or the month's last day when it is shorter.
"""

from __future__ import annotations

import calendar
import math
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from koban.core.local_time import instant, local
from koban.core.recurrence import Occurrences
from koban.schedules.model import Layer

_DAYS = {"daily": 1, "weekly": 7}


class Grid(Protocol):
    def at(self, k: int) -> float:
        """The instant of handoff ``k`` (k >= 0); strictly increasing in k."""
        ...

    def index(self, t: float) -> int:
        """The shift in progress at ``t``: the largest k with at(k) <= t; -1 before the anchor."""
        ...


def grid(layer: Layer, tz: ZoneInfo) -> Grid:
    anchor = datetime.combine(layer.start, layer.handoff)
    rot = layer.rotation
    if rot.rrule:
        return Occurrences(rot.rrule, anchor, tz)  # core/recurrence.py: maintenance windows' reading too
    if rot.unit == "hourly":
        return _ElapsedGrid(instant(anchor, tz), rot.every * 3600.0)
    return _WallGrid(anchor, tz, rot.unit, rot.every)


class _ElapsedGrid:
    def __init__(self, origin: float, step: float) -> None:
        self.origin, self.step = origin, step

    def at(self, k: int) -> float:
        return self.origin + k * self.step

    def index(self, t: float) -> int:
        return max(-1, math.floor((t - self.origin) / self.step))


class _WallGrid:
    """Daily, weekly and monthly: a wall-clock date sequence at the anchor's time of day."""

    def __init__(self, anchor: datetime, tz: ZoneInfo, unit: str, every: int) -> None:
        self.anchor, self.tz, self.unit, self.every = anchor, tz, unit, every

    def wall(self, k: int) -> datetime:
        if self.unit == "monthly":
            return datetime.combine(_add_months(self.anchor.date(), k * self.every), self.anchor.time())
        return self.anchor + timedelta(days=k * self.every * _DAYS[self.unit])

    def at(self, k: int) -> float:
        return instant(self.wall(k), self.tz)

    def index(self, t: float) -> int:
        d, a = local(t, self.tz).date(), self.anchor.date()
        if self.unit == "monthly":
            k = ((d.year - a.year) * 12 + d.month - a.month) // self.every
        else:
            k = (d - a).days // (self.every * _DAYS[self.unit])
        # The estimate is off by at most one shift (the handoff time within the day, a clamped month).
        while k >= 0 and self.at(k) > t:
            k -= 1
        if k < 0:
            return -1
        while self.at(k + 1) <= t:
            k += 1
        return k


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))
