"""Every offset change of every IANA zone from 2000 to 2040 (DST both ways, and zones that moved
their standard time), not a sample: a daily handoff written at a local time the change skips
happens at the jump, and one written at a local time the change repeats happens at its first
occurrence (docs/schedules.md, "DST and zone changes"). The hypothesis properties
(test_properties.py) sample the same rules with every kind of layer; this sweep makes sure no
transition of the zone database is left out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

from koban.core.local_time import local
from koban.schedules.model import Layer, Rotation, Schedule
from koban.schedules.resolve import final

ZONES = sorted(available_timezones() - {"localtime"})  # "localtime" is the host's link, not a zone
FROM = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
UNTIL = datetime(2041, 1, 1, tzinfo=UTC).timestamp()
WEEK = 7 * 86400


def offset(t: float, tz: ZoneInfo) -> timedelta:
    return datetime.fromtimestamp(t, tz).utcoffset() or timedelta(0)


def transitions(tz: ZoneInfo) -> Iterator[int]:
    """The instants the zone's offset changes (a week apart at least, as in every zone's rules
    2000-2040: Morocco's Ramadan pauses, the closest, last about a month)."""
    t = FROM
    before = offset(t, tz)
    while t < UNTIL:
        nxt = t + WEEK
        after = offset(nxt, tz)
        if after != before:
            lo, hi = int(t), int(nxt)  # offset(lo) is the old one, offset(hi) the new one
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid, tz) == before else (lo, mid)
            yield hi
        t, before = nxt, after


def handoffs(tz_name: str, day: datetime, at: time) -> list[float]:
    """The instants a daily alice/bob layer handing off at ``at`` hands off, around ``day``."""
    layer = Layer("daily", ("alice", "bob"), Rotation("daily"), (day - timedelta(days=2)).date(), at)
    start = (day - timedelta(days=1)).replace(tzinfo=UTC).timestamp() - 86400
    slots = final(Schedule("s", tz_name, (layer,)), [], start, start + 4 * 86400)
    return [b.start for a, b in zip(slots, slots[1:], strict=False) if a.people != b.people]


def test_every_transition_of_every_zone_hands_off_at_the_jump_or_the_first_occurrence() -> None:
    checked = 0
    for name in ZONES:
        tz = ZoneInfo(name)
        for jump in transitions(tz):
            old, new = offset(jump - 1, tz), offset(jump, tz)
            delta = abs((new - old).total_seconds())
            if delta < 120:
                continue  # a change of seconds: no wall-clock minute to write inside it
            # The wall clock just before the change, read in the old offset, then half the change.
            edge = datetime.fromtimestamp(jump, timezone(old)).replace(tzinfo=None)
            wall = (
                edge + timedelta(minutes=int(delta // 120))
                if new > old
                else edge - timedelta(minutes=int(delta // 120))
            )
            if new > old:  # skipped: the jump itself
                expected = float(jump)
            else:  # repeated: the first occurrence, in the old offset
                expected = wall.replace(tzinfo=timezone(old)).timestamp()
                assert expected < jump
            got = handoffs(name, wall, wall.time())
            assert expected in got, (name, wall, datetime.fromtimestamp(expected, UTC), got)
            w = local(expected, tz)
            assert w.fold == 0 and (w == wall if new < old else w > wall)
            checked += 1
    assert checked > 5000  # every DST change of 2000-2040 in every zone that has them
