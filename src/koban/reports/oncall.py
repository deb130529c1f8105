"""On-call load from the rotations that exist today: hours on call per person, each person's share
against an even split, and the pages and nights woken that came with it. Pure.

A rotation hands off every ``shift`` from ``start`` (``domain.freeze.on_call_index``, the rule that
pages); without a shift its first member is on call all the time. Hours are counted from the
rotations as configured now: edits within the period are not replayed. Override hours and schedule
gaps wait for on-call schedules (``koban.schedules``), which will replace this reading.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from koban.domain.freeze import on_call_index
from koban.domain.specs import RotationSpec
from koban.reports.interruptions import person_of
from koban.reports.records import Period, PersonInfo

HOUR = 3600.0


def shifts(rotation: RotationSpec, period: Period) -> list[tuple[str, float, float]]:
    """(person, start, end) of each shift in the period, clipped to it."""
    if not rotation.members:
        return []
    if rotation.shift is None or rotation.start is None:
        return [(rotation.members[0], period.since, period.until)]
    origin = on_call_origin(rotation)
    k = math.floor((period.since - origin) / rotation.shift)
    out: list[tuple[str, float, float]] = []
    while (begin := origin + k * rotation.shift) < period.until:
        end = begin + rotation.shift
        lo, hi = max(begin, period.since), min(end, period.until)
        if lo < hi:
            who = rotation.members[on_call_index(rotation, lo)]
            if out and out[-1][0] == who and out[-1][2] == lo:  # one member twice in a row
                out[-1] = (who, out[-1][1], hi)
            else:
                out.append((who, lo, hi))
        k += 1
    return out


def on_call_origin(rotation: RotationSpec) -> float:
    assert rotation.start is not None
    start = rotation.start if rotation.start.tzinfo else rotation.start.replace(tzinfo=UTC)
    return start.timestamp()


def oncall(
    rotations: Mapping[str, RotationSpec],
    period: Period,
    people: Mapping[str, PersonInfo],
    interrupted: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """``interrupted``: the interruptions report's rows by person (pages, interruptions, nights)."""
    out = []
    for ident in sorted(rotations):
        rot = rotations[ident]
        hours: dict[str, float] = dict.fromkeys(rot.members, 0.0)
        for who, lo, hi in shifts(rot, period):
            hours[who] += (hi - lo) / HOUR
        total = sum(hours.values())
        even = 1 / len(hours) if hours else 0.0
        members = []
        for who in sorted(hours):
            info, load = person_of(who, people), (interrupted or {}).get(who, {})
            share = hours[who] / total if total else 0.0
            members.append(
                {
                    "person": who,
                    "name": info.name,
                    "known": info.known,
                    "hours": round(hours[who], 3),
                    "share": round(share, 4),
                    "even_share": round(even, 4),
                    "fairness": round(share - even, 4),  # above 0: more than an even split
                    "pages": load.get("pages", 0),
                    "interruptions": load.get("interruptions", 0),
                    "nights_woken": load.get("nights_woken", 0),
                }
            )
        out.append({"rotation": ident, "hours": round(total, 3), "members": members})
    return {"rotations": out, "waits_for_schedules": ["override_hours", "schedule_gaps"]}
