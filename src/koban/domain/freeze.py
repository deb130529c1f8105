"""Freeze a policy into a Plan at escalation start (pure: policy, rotations, people, ``now`` -> Plan)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from koban.domain.plan import Plan, PlanStep, PlanTarget
from koban.domain.specs import PersonSpec, PolicySpec, RotationSpec, TargetSpec


def on_call_index(rotation: RotationSpec, now: float) -> int:
    """Index of the member on call at ``now``: hand-offs every ``shift`` from ``start``."""
    if rotation.shift is None or rotation.start is None:
        return 0
    start = rotation.start if rotation.start.tzinfo else rotation.start.replace(tzinfo=UTC)
    elapsed = now - start.timestamp()
    return int(elapsed // rotation.shift) % len(rotation.members)


def _channels_for(person: str, target: TargetSpec, people: Mapping[str, PersonSpec]) -> list[str]:
    if target.via:
        return list(target.via)
    p = people.get(person)
    return list(p.notify) if p else []


def _direct(person: str, target: TargetSpec, people: Mapping[str, PersonSpec]) -> list[PlanTarget]:
    return [PlanTarget(channel=c, person=person) for c in _channels_for(person, target, people)]


def freeze(
    policy: PolicySpec,
    rotations: Mapping[str, RotationSpec],
    people: Mapping[str, PersonSpec],
    now: float,
) -> Plan:
    steps: list[PlanStep] = []
    for si, step in enumerate(policy.steps):
        label = step.label or f"step {si + 1}"
        plain: list[PlanTarget] = []
        in_turn: list[list[PlanTarget]] = []
        for t in step.notify:
            if t.channel:
                plain.append(PlanTarget(channel=t.channel))
            elif t.person:
                plain.extend(_direct(t.person, t, people))
            elif t.schedule:
                # Resolved when the step fires (paging/on_call.py), not now: a later step pages whoever
                # is on call then.
                plain.extend(PlanTarget(channel=c, schedule=t.schedule) for c in (t.via or [""]))
            elif t.rotation:
                rot = rotations[t.rotation]
                cur = on_call_index(rot, now)
                ordered = [*rot.members[cur:], *rot.members[:cur]]
                if t.mode == "current":
                    plain.extend(_direct(ordered[0], t, people))
                elif t.mode == "all":
                    for m in ordered:
                        plain.extend(_direct(m, t, people))
                elif t.mode == "round_robin":
                    for c in _channels_for(ordered[0], t, people):
                        plain.append(PlanTarget(channel=c, members=tuple(rot.members), offset=cur))
                else:  # in_turn: one sub-step per member, in rotation order from whoever is on call
                    in_turn.append([pt for m in ordered for pt in _direct(m, t, people)])
        if in_turn:
            # The step's plain targets go out with the first person; each member then gets the timeout.
            members = max(len(x) for x in in_turn)
            for i in range(members):
                extra = [x[i] for x in in_turn if i < len(x)]
                steps.append(
                    PlanStep(
                        targets=tuple((plain if i == 0 else []) + extra),
                        timeout=step.escalate_after,
                        label=f"{label}, {extra[0].person if extra else ''}".rstrip(", "),
                    )
                )
        else:
            steps.append(PlanStep(targets=tuple(plain), timeout=step.escalate_after, label=label))
    return Plan(
        policy_id=policy.id,
        steps=tuple(steps),
        loops=policy.repeat + 1,
        max_seconds=policy.repeat_for,
        meta={"frozen_at": datetime.fromtimestamp(now, UTC).isoformat()},
    )
