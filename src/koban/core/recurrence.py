"""RFC 5545 recurrence rules (an RRULE body such as ``FREQ=MONTHLY;BYDAY=1SU``), read by dateutil,
as wall-clock times in a zone with the DST rules of ``local_time`` (a skipped time is the jump, a
repeated one its first occurrence). Pure.

One reading for every calendar in koban: schedule layers hand off at a rule's occurrences
(``schedules/grid.py``) and maintenance windows start at them (``routing/maintenance.py``), so a
rule means the same thing in both places.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from koban.core.local_time import instant

_ANY = datetime(2000, 1, 1)  # noqa: DTZ001  (any start: whether a rule reads does not depend on it)


def check_rrule(rule: str) -> str:
    """``rule`` if it reads as an RRULE body; ValueError says what is wrong."""
    try:
        rrulestr(rule, dtstart=_ANY)
    except (ValueError, TypeError) as e:
        raise ValueError(f"not an RFC 5545 RRULE: {e}") from None
    return rule


def more_than(rule: str, dtstart: datetime, most: int, within: timedelta) -> bool:
    """Whether ``rule`` from ``dtstart`` has more than ``most`` occurrences ``within`` its start
    (looks at no more than ``most + 1`` of them)."""
    end = dtstart + within
    for n, wall in enumerate(_parsed(rule, dtstart)):
        if wall >= end:
            return False
        if n >= most:
            return True
    return False


@functools.lru_cache(maxsize=1024)
def _parsed(rule: str, dtstart: datetime) -> rrule:
    parsed: rrule = rrulestr(rule, dtstart=dtstart)
    return parsed


def occurrences(rule: str, dtstart: datetime, tz: ZoneInfo, after: datetime | None = None) -> Iterator[float]:
    """The instants of ``rule`` from the naive wall-clock ``dtstart`` (or from the wall-clock time
    ``after`` on, inclusive), strictly increasing: two occurrences landing on one instant (a
    sub-daily rule across a gap) count once."""
    source = _parsed(rule, dtstart)
    walls = iter(source) if after is None else source.xafter(after, inc=True)
    last = None
    for wall in walls:
        t = instant(wall, tz)
        if last is not None and t <= last:
            continue
        last = t
        yield t


class Occurrences:
    """The instants of ``rule`` from the naive wall-clock ``dtstart``, expanded as far as asked and
    kept: a schedule layer's handoff ``k`` (``at``), the shift in progress (``index``), a
    maintenance window's latest start (``last``). Asking again for a later time only expands the
    occurrences since the last question (dateutil's ``before`` starts from DTSTART every time)."""

    def __init__(self, rule: str, dtstart: datetime, tz: ZoneInfo) -> None:
        self._source = occurrences(rule, dtstart, tz)
        self._instants: list[float] = []
        self._done = False

    def _more(self) -> bool:
        for t in self._source:
            self._instants.append(t)
            return True
        self._done = True
        return False

    def at(self, k: int) -> float:
        """Occurrence ``k`` (k >= 0); infinity past the end of a finite rule (COUNT, UNTIL)."""
        while len(self._instants) <= k:
            if self._done or not self._more():
                return math.inf
        return self._instants[k]

    def index(self, t: float) -> int:
        """The largest k with at(k) <= t; -1 before the first."""
        while not self._done and (not self._instants or self._instants[-1] <= t):
            self._more()
        return bisect_right(self._instants, t) - 1

    def last(self, t: float) -> float | None:
        """The latest occurrence at or before ``t``; None before the first."""
        k = self.index(t)
        return None if k < 0 else self._instants[k]
