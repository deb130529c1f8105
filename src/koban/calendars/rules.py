"""What an imported calendar's events mean (pure): which rule an event opens a task for, which
person an event puts on call, and the plan a task escalates through."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace

from koban.config.model import Person
from koban.config.model_calendars import Calendar, TaskMatch, TaskRule
from koban.domain.plan import Plan
from koban.sources.calendar.parse import CalEvent


def matches(m: TaskMatch, ev: CalEvent) -> bool:
    if m.title is not None and not re.search(m.title, ev.summary):
        return False
    if m.location is not None and not re.search(m.location, ev.location):
        return False
    if m.attendee is not None and m.attendee.lower() not in ev.attendees:
        return False
    return m.organizer is None or m.organizer.lower() == ev.organizer


def rule_for(cal: Calendar, ev: CalEvent) -> TaskRule | None:
    """The first rule the event matches: one occurrence makes at most one task."""
    if ev.cancelled:
        return None
    return next((r for r in cal.tasks if matches(r.match, ev)), None)


def person_of(ev: CalEvent, people: Mapping[str, Person]) -> str | None:
    """The person an on-call event names: its title is a person's id or name (case-insensitive),
    else its attendees hold exactly one person's email."""
    return people_finder(people)(ev)


def people_finder(people: Mapping[str, Person]) -> Callable[[CalEvent], str | None]:
    """``person_of`` with the people indexed once, for a feed of thousands of events."""
    names: dict[str, str] = {}
    for p in people.values():  # the first person whose id or name it is
        for n in (p.id.casefold(), p.name.casefold()):
            if n:
                names.setdefault(n, p.id)
    emails = {p.contacts.get("email", "").lower(): p.id for p in people.values() if p.contacts.get("email")}

    def find(ev: CalEvent) -> str | None:
        title = ev.summary.strip().casefold()
        if title in names:
            return names[title]
        found = {emails[a] for a in ev.attendees if a in emails}
        return found.pop() if len(found) == 1 else None

    return find


def task_plan(plan: Plan, opened: float, remind_at: float) -> Plan:
    """The rule's policy, its first step (the post with Start and Done) waiting until ``remind_at``
    (the event's start + grace): then the second step is the reminder, the rest the escalation."""
    if not plan.steps:
        return plan
    first = replace(plan.steps[0], timeout=max(remind_at - opened, 1.0))
    return replace(plan, steps=(first, *plan.steps[1:]), meta={**plan.meta, "task": True})
