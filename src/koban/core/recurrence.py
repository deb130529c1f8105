"""RFC 5545 recurrence rules (an RRULE body such as ``FREQ=MONTHLY;BYDAY=1SU``), read by dateutil,
as wall-clock times in a zone with the DST rules of ``local_time`` (a skipped time is the jump, a
repeated one its first occurrence). Pure.

One reading for every calendar in koban: schedule layers hand off at a rule's occurrences
(``schedules/grid.py``) and maintenance windows start at them (``routing/maintenance.py``), so a
rule means the same thing in both places.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from koban.core.local_time import instant, local

_ANY = datetime(2000, 1, 1)  # noqa: DTZ001  (any start: whether a rule reads does not depend on it)


def check_rrule(rule: str) -> str:
    """``rule`` if it reads as an RRULE body; ValueError says what is wrong."""
    try:
        rrulestr(rule, dtstart=_ANY)
    except (ValueError, TypeError) as e:
        raise ValueError(f"not an RFC 5545 RRULE: {e}") from None
    return rule


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


def last_occurrence(rule: str, dtstart: datetime, tz: ZoneInfo, at: float) -> float | None:
    """The latest instant of ``rule`` at or before ``at``; None before its first."""
    wall = _parsed(rule, dtstart).before(local(at, tz).replace(fold=0), inc=True)
    if wall is None:
        return None
    t = instant(wall, tz)
    # An occurrence in a gap is the jump; one written after the current wall time in a repeated
    # hour (its first pass is still ahead) has not happened yet: the one before it has.
    while t > at:
        wall = _parsed(rule, dtstart).before(wall, inc=False)
        if wall is None:
            return None
        t = instant(wall, tz)
    return t
