"""Where an instant falls in a person's day, as integers a database can compute. Pure.

``interruptions.slot`` reads ``datetime.fromtimestamp(at, zone)``: the instant rounded to the
microsecond (half to even), then the zone's offset at that instant. Both steps are exact in
integers: the rounded instant's whole second is ``floor(at)``, plus one when the fraction's
microseconds round up to a whole second (``CARRY_FROM``), and a zone's offset is constant between
its transitions, which fall on whole seconds. So a page's local second is its whole second plus the
offset of the span it lies in (``offset_spans``), and its slot and night follow from that number by
integer division (``slot_of``), the same answer ``slot`` gives: ``tests/reports/test_interruptions_sql.py``
checks both on random instants, zones and periods.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

# fromtimestamp rounds the fraction's microseconds half to even: from here they round to 1,000,000.
CARRY_FROM = 999_999.5
DAY = 86400
HOUR = 3600
SLEEP_FROM, SLEEP_UNTIL = 22 * HOUR, 8 * HOUR
WORK_FROM, WORK_UNTIL = 9 * HOUR, 18 * HOUR
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
EPOCH_WEEKDAY = 3  # 1 January 1970 was a Thursday (Monday is 0)


def whole_second(at: float) -> int:
    """The whole second ``datetime.fromtimestamp`` puts ``at`` in (``at`` >= 0)."""
    whole = math.floor(at)
    return whole + ((at - whole) * 1e6 >= CARRY_FROM)


def _offset(zone: ZoneInfo, second: int) -> int:
    off = datetime.fromtimestamp(second, zone).utcoffset()
    assert off is not None
    return int(off.total_seconds())


def offset_spans(tz: str, since: float, until: float) -> list[tuple[int, int]]:
    """The zone's offset over the whole seconds of ``[since, until]``: ``(from, offset)`` pairs in
    order, each offset holding from its second until the next pair's (the first from ``since``).

    The offset is looked up at every whole hour and, where two hours differ, the second it changes
    is found by bisection: a zone that changed its offset and back within one hour would be missed
    (none does; ``stats.bucketer`` assumes the same)."""
    zone = ZoneInfo(tz)
    lo, hi = math.floor(since), math.ceil(until) + 1
    spans = [(lo, _offset(zone, lo))]
    at = lo
    while at < hi:
        nxt = min(hi, (at // HOUR + 1) * HOUR)
        o = _offset(zone, nxt)
        if o != spans[-1][1]:
            a, b = at, nxt  # offset(a) is the last one's, offset(b) the new one
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(zone, mid) == o:
                    b = mid
                else:
                    a = mid
            spans.append((b, o))
        at = nxt
    return spans


def slot_of(local: int) -> tuple[str, int | None]:
    """(slot, the night's day number when it is ``sleep``) of a local whole second."""
    day, clock = divmod(local, DAY)
    if clock >= SLEEP_FROM:
        return "sleep", day
    if clock < SLEEP_UNTIL:
        return "sleep", day - 1
    if (day + EPOCH_WEEKDAY) % 7 < 5 and WORK_FROM <= clock < WORK_UNTIL:
        return "business", None
    return "evening_weekend", None


def night_label(day: int) -> str:
    """The date (ISO) of a night's day number (days since 1970-01-01, local)."""
    return date.fromordinal(EPOCH_ORDINAL + day).isoformat()
