"""Schedule targets: who a step pages is resolved when the step fires, and why is kept.

A policy step ``{schedule: primary}`` is frozen as a target naming the schedule (domain/freeze.py).
When the step fires, the final schedule at that instant (layers + overrides, schedules/resolve.py)
names the people; the incident's timeline gets an ``on_call`` entry saying who, from which layer or
override, until when, so a later edit of the schedule never changes what the timeline says.
"""

from __future__ import annotations

from typing import Any

from koban.catalog.snapshot import Catalog
from koban.domain.escalation import Notify
from koban.schedules.build import on_call


def resolve_pages(a: Notify, catalog: Catalog, now: float) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The (person, channel) pairs a schedule target pages now, and the timeline's account of why."""
    ident = a.target.schedule or ""
    sched = catalog.schedules.get(ident)
    if sched is None:
        return [], {"schedule": ident, "step": a.step, "people": [], "error": "no such schedule"}
    slot = on_call(sched, now, catalog)
    pages: list[tuple[str, str]] = []
    unreachable: list[str] = []
    for person in slot.people:
        p = catalog.people.get(person)
        channels = [a.target.channel] if a.target.channel else list(p.notify if p else [])
        if not channels:
            unreachable.append(person)
        pages.extend((person, c) for c in channels)
    why: dict[str, Any] = {
        "schedule": ident,
        "step": a.step,
        "people": list(slot.people),
        "source": slot.source,
        "layer": slot.layer,
        "overrides": list(slot.overrides),
        "until": slot.end,
    }
    if unreachable:
        why["unreachable"] = unreachable  # on call but with no channel to page them through
    return pages, why
