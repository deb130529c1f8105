"""On-call load: hours on call per person from the rotations and the schedules, each person's share
against an even split, and the pages and nights woken that came with it. Pure.

A rotation hands off every ``shift`` from ``start`` (``domain.freeze.on_call_index``, the rule that
pages); without a shift its first member is on call all the time. Hours are counted from the
rotations as configured now: edits within the period are not replayed. A schedule's hours, override
hours and gaps come from its final slots (``oncall_schedules.py``). Both stay (docs/schedules.md):
``people`` adds them up per person, and its fairness is measured over those combined hours.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from koban.domain.freeze import on_call_index
from koban.domain.specs import RotationSpec
from koban.reports.interruptions import person_of
from koban.reports.oncall_schedules import GAPS_SHOWN, ScheduleLoad
from koban.reports.records import Period, PersonInfo
from koban.reports.stats import iso

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


def _shares(
    hours: Mapping[str, float], people: Mapping[str, PersonInfo], extra: Mapping[str, float] | None = None
) -> list[dict[str, Any]]:
    """One row per person: hours, share of the total, the even split and the difference."""
    total = sum(hours.values())
    even = 1 / len(hours) if hours else 0.0
    out = []
    for who in sorted(hours):
        info = person_of(who, people)
        share = hours[who] / total if total else 0.0
        row: dict[str, Any] = {"person": who, "name": info.name, "known": info.known}
        row["hours"] = round(hours[who], 3)
        if extra is not None:
            row["override_hours"] = round(extra.get(who, 0.0), 3)
        row |= {
            "share": round(share, 4),
            "even_share": round(even, 4),
            "fairness": round(share - even, 4),  # above 0: more than an even split
        }
        out.append(row)
    return out


def _woken(row: dict[str, Any], interrupted: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    load = interrupted.get(row["person"], {})
    return row | {
        "pages": load.get("pages", 0),
        "interruptions": load.get("interruptions", 0),
        "nights_woken": load.get("nights_woken", 0),
    }


def oncall(
    rotations: Mapping[str, RotationSpec],
    period: Period,
    people: Mapping[str, PersonInfo],
    interrupted: Mapping[str, Mapping[str, Any]] | None = None,
    schedules: Mapping[str, ScheduleLoad] | None = None,
) -> dict[str, Any]:
    """``interrupted``: the interruptions report's rows by person (pages, interruptions, nights);
    ``schedules``: each schedule's load over the period (``oncall_schedules.load_of``)."""
    woken = interrupted or {}
    combined: dict[str, float] = {}
    combined_extra: dict[str, float] = {}
    rots = []
    for ident in sorted(rotations):
        rot = rotations[ident]
        hours: dict[str, float] = dict.fromkeys(rot.members, 0.0)
        for who, lo, hi in shifts(rot, period):
            hours[who] += (hi - lo) / HOUR
        for who, h in hours.items():
            combined[who] = combined.get(who, 0.0) + h
        members = [_woken(row, woken) for row in _shares(hours, people)]
        rots.append({"rotation": ident, "hours": round(sum(hours.values()), 3), "members": members})
    scheds = []
    for ident, load in sorted((schedules or {}).items()):
        for who, h in load.hours.items():
            combined[who] = combined.get(who, 0.0) + h
            combined_extra[who] = combined_extra.get(who, 0.0) + load.override_hours.get(who, 0.0)
        scheds.append(
            {
                "schedule": ident,
                "hours": round(sum(load.hours.values()), 3),
                "override_hours": round(sum(load.override_hours.values()), 3),
                "gap_hours": round(load.gap_hours, 3),
                "gaps_count": len(load.gaps),
                "gaps": [
                    {"start": iso(a), "end": iso(b), "hours": round((b - a) / HOUR, 3)}
                    for a, b in load.gaps[:GAPS_SHOWN]
                ],
                "members": _shares(load.hours, people, load.override_hours),
            }
        )
    everyone = [_woken(row, woken) for row in _shares(combined, people, combined_extra)]
    return {"people": everyone, "rotations": rots, "schedules": scheds}
