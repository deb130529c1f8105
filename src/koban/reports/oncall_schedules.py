"""On-call load from a schedule's final slots (pure): hours per person, of which override hours,
and the schedule's gaps over the period.

The slots are the final schedule (``schedules/resolve.runs`` through ``schedules/build.resolved_runs``,
calendar shifts included), the one paging and ``/api/v1/oncall`` read, so the report counts the
hours the pager would have paged. A person's hours in a slot are **override hours** when a
temporary schedule decided the slot, or when one of the overrides applied to it (a file or API
override, a swap's ``swap-<id>``) names them: the person an ``add`` or ``replace`` put on call.
Who a layer put there, or an imported calendar's shift (``calendar:<id>:<uid>``: the calendar is
the plan it fills the schedule with, not a change to it), counts as ordinary hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from koban.schedules import model as m
from koban.schedules.resolve import Run

HOUR = 3600.0
GAPS_SHOWN = 50  # per schedule: a schedule with no night layer has 365 gaps a year
CALENDAR = "calendar:"


@dataclass(slots=True)
class ScheduleLoad:
    """What one schedule's slots over the period add up to (hours as floats, unrounded)."""

    hours: dict[str, float] = field(default_factory=dict)
    override_hours: dict[str, float] = field(default_factory=dict)
    gaps: list[tuple[float, float]] = field(default_factory=list)

    @property
    def gap_hours(self) -> float:
        return sum(b - a for a, b in self.gaps) / HOUR


def load_of(slots: Iterable[Run], named: Mapping[str, str], members: Sequence[str] = ()) -> ScheduleLoad:
    """``slots``: the final schedule as ``schedules/resolve.runs`` tuples; ``named``: override id ->
    the person it names (``schedules/build.overrides``); ``members``: the layers' people, shown with
    0 hours when the period never had them on call."""
    out = ScheduleLoad(dict.fromkeys(members, 0.0), dict.fromkeys(members, 0.0))
    hours, extra, gaps = out.hours, out.override_hours, out.gaps
    for start, end, people, source, _, overrides in slots:
        if not people:
            if gaps and gaps[-1][1] == start:  # one gap, however many slots describe it
                gaps[-1] = (gaps[-1][0], end)
            else:
                gaps.append((start, end))
            continue
        h = (end - start) / HOUR
        if not overrides and source.startswith("layer:"):  # most slots of a year
            for p in people:
                hours[p] = hours.get(p, 0.0) + h
                extra.setdefault(p, 0.0)
            continue
        temporary = source.startswith("temporary:")
        by_override = {named.get(o) for o in overrides if not o.startswith(CALENDAR)}
        for p in people:
            hours[p] = hours.get(p, 0.0) + h
            if temporary or p in by_override:
                extra[p] = extra.get(p, 0.0) + h
            else:
                extra.setdefault(p, 0.0)
    return out


def members_of(schedule: m.Schedule, since: float, until: float) -> list[str]:
    """The people the layers rotate through at some point of [since, until): the members in force
    at ``since`` (the last member change before it, else the layer's own) and those of the changes
    within it. Someone a change removed before the period is not counted in its even split."""
    out: dict[str, None] = {}
    for layer in schedule.layers:
        changes = sorted(layer.changes, key=lambda c: c.at)
        before = [c for c in changes if c.at <= since]
        out.update(dict.fromkeys(before[-1].members if before else layer.members))
        for c in changes:
            if since < c.at < until:
                out.update(dict.fromkeys(c.members))
    return list(out)


def named_by(overrides: Iterable[m.Override]) -> dict[str, str]:
    """Override id -> the person it names, as ``schedules/resolve`` names an applied override."""
    return {o.id or f"{o.kind}-{o.person}": o.person for o in overrides}
