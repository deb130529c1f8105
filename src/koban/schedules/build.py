"""From the config's schedules (``config/model_schedules.py``) to the pure model (pure).

Given the catalog, the overrides and temporary schedules made through the API (kept apart from the
file's definition, catalog/schedule_extras.py) join the file's: the file's overrides first, then
the API's in the order they were made, so the newest applies on top.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from koban.config import model_schedules as cfg
from koban.schedules import model as m
from koban.schedules.resolve import Run, runs, slot_at

_DAY = {d: i for i, d in enumerate(cfg.WEEKDAYS)}


class Catalog(Protocol):
    """What the catalog (catalog/snapshot.py) holds of the API's additions, per schedule id:
    a Protocol, so this pure module imports no I/O."""

    @property
    def schedule_overrides(self) -> Mapping[str, tuple[cfg.Override, ...]]: ...

    @property
    def schedule_temporaries(self) -> Mapping[str, tuple[cfg.Temporary, ...]]: ...


def schedule(s: cfg.Schedule) -> m.Schedule:
    return m.Schedule(s.id, s.timezone, tuple(_layer(i, x) for i, x in enumerate(s.layers)))


def _layer(index: int, x: cfg.Layer) -> m.Layer:
    return m.Layer(
        name=x.name or f"layer {index + 1}",
        members=tuple(x.members),
        rotation=m.Rotation(x.rotation, x.every, x.rrule),
        start=x.start,
        handoff=x.handoff,
        restrictions=tuple(
            m.Window(frozenset(_DAY[d] for d in r.days), r.from_, r.to) for r in x.restrictions
        ),
        changes=tuple(m.MemberChange(c.at.timestamp(), tuple(c.members)) for c in x.changes),
    )


def overrides(
    s: cfg.Schedule, catalog: Catalog | None = None, before: Sequence[m.Override] = ()
) -> list[m.Override]:
    """The overrides of ``s``: ``before`` (an imported calendar's shifts, paging/on_call.py) first,
    so the file's and then the API's apply on top of them."""
    extra = catalog.schedule_overrides.get(s.id, ()) if catalog is not None else ()
    return [
        *before,
        *(
            m.Override(
                o.start.timestamp(), o.end.timestamp(), o.person, o.kind, o.replaces, o.id or f"#{i + 1}"
            )
            for i, o in enumerate([*s.overrides, *extra])
        ),
    ]


def temporaries(s: cfg.Schedule, catalog: Catalog | None = None) -> list[m.Temporary]:
    made = catalog.schedule_temporaries.get(s.id, ()) if catalog is not None else ()
    return [
        m.Temporary(
            x.start.timestamp(),
            x.end.timestamp(),
            tuple((f.start.timestamp(), f.end.timestamp(), tuple(f.people)) for f in x.shifts),
            x.id,
        )
        for x in made
    ]


def resolved(
    s: cfg.Schedule,
    start: float,
    end: float,
    catalog: Catalog | None = None,
    before: Sequence[m.Override] = (),
) -> list[m.Slot]:
    """The final schedule of ``s`` over [start, end); with ``catalog``, what the API added too;
    ``before``: overrides applied first (an imported calendar's shifts)."""
    return [m.Slot(*r) for r in resolved_runs(s, start, end, catalog, before)]


def resolved_runs(
    s: cfg.Schedule,
    start: float,
    end: float,
    catalog: Catalog | None = None,
    before: Sequence[m.Override] = (),
) -> list[Run]:
    """``resolved`` as plain tuples (``resolve.runs``): for counting many schedules' years."""
    return runs(schedule(s), overrides(s, catalog, before), start, end, temporaries(s, catalog))


def on_call(
    s: cfg.Schedule,
    at: float,
    catalog: Catalog | None = None,
    horizon: float = 35 * 86400.0,
    before: Sequence[m.Override] = (),
) -> m.Slot:
    """The slot in progress at ``at``, with its real start and end when within ``horizon`` of it."""
    return slot_at(schedule(s), overrides(s, catalog, before), at, temporaries(s, catalog), horizon)


def names(s: cfg.Schedule, person: str, catalog: Catalog | None = None) -> bool:
    """Whether ``s`` can put ``person`` on call by itself (cheap: no resolving): its layers, member
    changes, overrides or temporary schedules name them. An imported calendar that fills ``s`` can
    name anyone: callers count it apart."""
    if any(person in x.members or any(person in c.members for c in x.changes) for x in s.layers):
        return True
    if any(o.person == person for o in overrides(s, catalog)):
        return True
    return any(person in shift[2] for t in temporaries(s, catalog) for shift in t.shifts)


def person_shifts(
    person: str,
    schedules: Sequence[cfg.Schedule],
    start: float,
    end: float,
    catalog: Catalog | None = None,
    calendars: Mapping[str, Sequence[m.Override]] | None = None,
) -> list[tuple[cfg.Schedule, m.Slot]]:
    """``person``'s slots in ``schedules`` within [start, end), by start: only the schedules that
    name them are resolved, and those an imported calendar fills (``calendars``: its shifts per
    schedule, paging/on_call.py), since a calendar's event can name anyone."""
    cal = calendars or {}
    out = [
        (s, x)
        for s in schedules
        if s.id in cal or names(s, person, catalog)
        for x in resolved(s, start, end, catalog, cal.get(s.id, ()))
        if person in x.people
    ]
    return sorted(out, key=lambda sx: sx[1].start)
