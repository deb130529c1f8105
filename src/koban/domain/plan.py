"""The escalation plan: a policy frozen onto an incident when escalation starts.

Freezing resolves everything that could change later (rotation membership and who is on call now,
the steps and their timeouts) into plain data stored on the incident, so an edit to the policy never
changes a page in flight and the timeline shows exactly which steps ran.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class PlanTarget:
    """One notification target. ``members`` is set for round-robin targets: the person notified is
    ``members[(offset + loop) % len(members)]``, so each loop of the policy pages the next member.
    ``schedule`` is set for schedule targets: who is paged is resolved when the step fires (not at
    freezing), through ``channel``, or each person's own channels when it is empty."""

    channel: str  # channel instance id
    person: str | None = None
    members: tuple[str, ...] = ()
    offset: int = 0
    schedule: str | None = None

    def person_for(self, loop: int) -> str | None:
        if self.members:
            return self.members[(self.offset + loop) % len(self.members)]
        return self.person

    def key(self, loop: int) -> str:
        if self.schedule:
            return f"{self.channel}/@{self.schedule}"
        who = self.person_for(loop)
        return f"{self.channel}/{who}" if who else self.channel


@dataclass(frozen=True, slots=True)
class PlanStep:
    targets: tuple[PlanTarget, ...]
    # Seconds to wait for an acknowledgement before moving on to the next step.
    timeout: float
    label: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    policy_id: str
    steps: tuple[PlanStep, ...]
    # Total passes over the steps (1 = no repeat) and an optional cap on total escalation time.
    loops: int = 1
    max_seconds: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        steps = tuple(
            PlanStep(
                targets=tuple(
                    PlanTarget(
                        channel=t["channel"],
                        person=t.get("person"),
                        members=tuple(t.get("members") or ()),
                        offset=t.get("offset", 0),
                        schedule=t.get("schedule"),
                    )
                    for t in s["targets"]
                ),
                timeout=float(s["timeout"]),
                label=s.get("label", ""),
            )
            for s in data["steps"]
        )
        return cls(
            policy_id=data["policy_id"],
            steps=steps,
            loops=int(data.get("loops", 1)),
            max_seconds=data.get("max_seconds"),
            meta=dict(data.get("meta") or {}),
        )
