"""Who is on call for an incident, read from its frozen plan (pure): shown in Slack messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from koban.domain.plan import Plan


class Named(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...


def on_call_names(
    plan: Mapping[str, Any] | None, step: int, loop: int, people: Mapping[str, Named]
) -> list[str]:
    """People the plan pages from ``step`` on, in order (the one paged now first), by display name."""
    if not plan:
        return []
    steps = Plan.from_json(dict(plan)).steps
    out: list[str] = []
    for s in steps[max(step, 0) :]:
        for target in s.targets:
            who = target.person_for(loop)
            person = people.get(who) if who else None
            name = (person.name or person.id) if person else who
            if name and name not in out:
                out.append(name)
    return out
