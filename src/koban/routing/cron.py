"""A minimal five-field cron matcher (minute hour day-of-month month day-of-week), for
maintenance windows written as "cron + duration". Supports ``*``, lists, ranges and steps;
day-of-week 0 and 7 are Sunday. Day-of-month and day-of-week combine with OR when both are
restricted, as in Vixie cron.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


@dataclass(frozen=True, slots=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    def matches(self, local: datetime) -> bool:
        """``local`` is a wall-clock time in the window's time zone."""
        if local.minute not in self.minutes or local.hour not in self.hours or local.month not in self.months:
            return False
        day_ok = local.day in self.days
        weekday_ok = (local.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return day_ok or weekday_ok
        return day_ok and weekday_ok


def parse_cron(expr: str) -> Cron:
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"cron expression needs 5 fields, got {len(fields)}: {expr!r}")
    sets = [_field(text, lo, hi) for text, (lo, hi) in zip(fields, _BOUNDS, strict=True)]
    weekdays = frozenset(d % 7 for d in sets[4])
    return Cron(sets[0], sets[1], sets[2], sets[3], weekdays, fields[2] != "*", fields[4] != "*")


def _field(text: str, lo: int, hi: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        rng, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if rng == "*":
            start, end = lo, hi
        elif "-" in rng:
            a, b = rng.split("-", 1)
            start, end = int(a), int(b)
        else:
            start = int(rng)
            end = hi if step_text else start
        if not (lo <= start <= end <= hi) or step < 1:
            raise ValueError(f"cron field {text!r} out of range {lo}-{hi}")
        values.update(range(start, end + 1, step))
    return frozenset(values)
