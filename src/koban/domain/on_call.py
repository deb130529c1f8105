"""Who is on call for an incident, read from its frozen plan (pure): shown in Slack messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from koban.domain.plan import Plan


class Named(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...


def on_call_names(
    plan: Mapping[str, Any] | None,
    step: int,
    loop: int,
    people: Mapping[str, Named],
    schedule_people: Callable[[str], Sequence[str]] | None = None,
) -> list[str]:
    """People the plan pages from ``step`` on, in order (the one paged now first), by display name.
    A schedule target names whoever ``schedule_people`` says it has on call (nobody without it)."""
    if not plan:
        return []
    steps = Plan.from_json(dict(plan)).steps
    out: list[str] = []
    for s in steps[max(step, 0) :]:
        for target in s.targets:
            if target.schedule:
                whom = list(schedule_people(target.schedule)) if schedule_people else []
            else:
                whom = [w for w in (target.person_for(loop),) if w]
            for who in whom:
                person = people.get(who)
                name = (person.name or person.id) if person else who
                if name and name not in out:
                    out.append(name)
    return out
