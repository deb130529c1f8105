"""Wall-clock times in a zone to instants and back, with the two DST rules of docs/schedules.md.

- A local time that does not exist (the clocks jump over it) means the next valid instant: the
  moment of the jump. ``zoneinfo`` alone would shift it by the size of the jump instead (02:30 on
  the spring-forward day in New York would become 03:30), which is not a time anyone wrote.
- A local time that happens twice (the clocks go back) means its first occurrence (``fold=0``).

Instants are epoch seconds (floats), as in the rest of koban.
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(instant: float, tz: ZoneInfo) -> datetime:
    """The wall-clock time at ``instant``, naive (fold is kept: 1 on the second pass of a repeated hour)."""
    return datetime.fromtimestamp(instant, tz).replace(tzinfo=None)


@lru_cache(maxsize=1 << 16)  # layers share handoff and window times: resolving a year asks the same ones
def instant(wall: datetime, tz: ZoneInfo) -> float:
    """The instant a naive wall-clock time names in ``tz``, by the rules above."""
    first = wall.replace(tzinfo=tz, fold=0).timestamp()
    if local(first, tz) == wall:  # exists (naive equality ignores fold: an ambiguous time is fold 0)
        return first
    # In a gap. With fold=1 zoneinfo applies the offset after the jump, which lands before it; the
    # jump is in (before, first]: find the first second whose wall clock reaches ``wall``.
    lo = math.floor(wall.replace(tzinfo=tz, fold=1).timestamp())
    hi = math.ceil(first)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if local(mid, tz) >= wall:
            hi = mid
        else:
            lo = mid
    return float(hi)
