"""Escalation and lifecycle decisions: pure functions of (state, plan, event, now).

``decide`` returns the new state, the actions to carry out (notifications to create, timeline
entries) and when the next timer is due. The worker does the I/O; tests drive time with tables.

Fencing: ``version`` increases on every transition. Timers carry the version they were made for and
are dropped when it no longer matches, so an acknowledged or advanced incident never acts on a stale
timer, even when two workers race.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any

from koban.core.i18n import M_, Said
from koban.domain.plan import Plan, PlanTarget


class Status(enum.StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class EscState:
    status: Status = Status.TRIGGERED
    step: int = -1  # -1: escalation not started
    loop: int = 0
    version: int = 0
    started_at: float | None = None
    step_started_at: float | None = None
    exhausted: bool = False


# ---- events -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    pass


@dataclass(frozen=True, slots=True)
class Timer:
    version: int


@dataclass(frozen=True, slots=True)
class Acknowledge:
    actor: str | None = None
    via: str = "api"


@dataclass(frozen=True, slots=True)
class Resolve:
    actor: str | None = None
    via: str = "api"


@dataclass(frozen=True, slots=True)
class EscalateNow:
    actor: str | None = None
    via: str = "api"
    # The (step, loop) the person saw when they asked: a repeat, or a click on a message the
    # escalation has moved past, must not escalate again.
    seen: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Reassign:
    """Hand the incident to one person now: they are paged on ``targets`` (their channels, resolved
    by the caller) and have the current step's timeout to acknowledge before escalation goes on."""

    person: str
    targets: tuple[PlanTarget, ...]
    actor: str | None = None
    via: str = "api"


@dataclass(frozen=True, slots=True)
class StepExhausted:
    """Every target of (step, loop) ended without reaching anyone (failed, busy, no answer)."""

    step: int
    loop: int


@dataclass(frozen=True, slots=True)
class Retrigger:
    """A new alert for an acknowledged incident of a service configured to re-page."""


# The refusals paging completes with who got there first ("... by bob"): their ids, to match on.
ALREADY_RESOLVED = M_("incident is already resolved")
ALREADY_ACKNOWLEDGED = M_("incident is already acknowledged")

Event = Start | Timer | Acknowledge | Resolve | EscalateNow | Reassign | StepExhausted | Retrigger

# ---- actions ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notify:
    step: int
    loop: int
    target: PlanTarget
    # Set for pages outside the plan's own rounds (a reassignment): keeps their delivery keys apart.
    round: str = ""


@dataclass(frozen=True, slots=True)
class Note:
    kind: str
    actor: str | None = None
    via: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NotifyUpdate:
    """Tell channels that already carry a message about this incident that its state changed."""

    status: Status


Action = Notify | Note | NotifyUpdate


@dataclass(frozen=True, slots=True)
class Decision:
    state: EscState
    actions: tuple[Action, ...] = ()
    next_due: float | None = None
    # A short reason when the event changed nothing (shown to whoever asked: "already resolved").
    refused: str | None = None
    # The same reason as an id and its values, for a person's own language; only on refusals a
    # person's action can meet (a timer's "stale timer" is never said to anyone).
    reason: Said | None = None


# ---- the decision ---------------------------------------------------------------------------------


def decide(state: EscState, plan: Plan | None, event: Event, now: float) -> Decision:
    match event:
        case Start():
            return _start(state, plan, now)
        case Timer(version=v):
            if v != state.version or state.status is not Status.TRIGGERED:
                return Decision(state, refused="stale timer")
            return _advance(state, plan, now, reason="timeout")
        case EscalateNow(actor=actor, via=via, seen=seen):
            if state.status is Status.RESOLVED:
                return _refused(state, Said.of(M_("incident is resolved")))
            if seen is not None and seen != (state.step, state.loop):
                return _refused(state, Said.of(M_("already escalated to {where}"), where=where_said(state)))
            base = replace(state, status=Status.TRIGGERED)
            note = Note("escalated", actor, via)
            d = _advance(base, plan, now, reason="manual")
            return replace(d, actions=(note, *d.actions))
        case Reassign():
            return _reassign(state, plan, event, now)
        case StepExhausted(step=step, loop=loop):
            if state.status is not Status.TRIGGERED or (step, loop) != (state.step, state.loop):
                return Decision(state, refused="step already left")
            return _advance(state, plan, now, reason="no one reached")
        case Acknowledge(actor=actor, via=via):
            if state.status is Status.RESOLVED:
                return _refused(state, Said.of(ALREADY_RESOLVED))
            if state.status is Status.ACKNOWLEDGED:
                return _refused(state, Said.of(ALREADY_ACKNOWLEDGED))
            new = replace(state, status=Status.ACKNOWLEDGED, version=state.version + 1)
            acts = (Note("acknowledged", actor, via), NotifyUpdate(Status.ACKNOWLEDGED))
            return Decision(new, acts)
        case Resolve(actor=actor, via=via):
            if state.status is Status.RESOLVED:
                return _refused(state, Said.of(ALREADY_RESOLVED))
            new = replace(state, status=Status.RESOLVED, version=state.version + 1)
            return Decision(new, (Note("resolved", actor, via), NotifyUpdate(Status.RESOLVED)))
        case Retrigger():
            if state.status is not Status.ACKNOWLEDGED:
                return Decision(state, refused="not acknowledged")
            base = replace(state, status=Status.TRIGGERED, step=-1, loop=0, exhausted=False)
            d = _start(base, plan, now)
            return replace(d, actions=(Note("retriggered"), *d.actions))
    raise TypeError(f"unknown event {event!r}")


def where(state: EscState) -> str:
    """Where the escalation stands, as people count it (1-based; the round once it has looped)."""
    return where_said(state).english()


def where_said(state: EscState) -> Said:
    """``where``, to be written in a reader's language."""
    if state.loop:
        return Said.of(M_("step {step}, round {round}"), step=state.step + 1, round=state.loop + 1)
    return Said.of(M_("step {step}"), step=state.step + 1)


def _refused(state: EscState, reason: Said) -> Decision:
    return Decision(state, refused=reason.english(), reason=reason)


def _reassign(state: EscState, plan: Plan | None, event: Reassign, now: float) -> Decision:
    if state.status is Status.RESOLVED:
        return _refused(state, Said.of(M_("incident is resolved")))
    if not event.targets:
        return _refused(state, Said.of(M_("{person} has no notification channels"), person=event.person))
    step = max(state.step, 0)
    # A fresh version fences the old timer; the new assignee must acknowledge, so an acked incident
    # goes back to triggered.
    new = replace(state, status=Status.TRIGGERED, version=state.version + 1, step_started_at=now)
    note = Note("reassigned", event.actor, event.via, {"to": event.person})
    pages = tuple(Notify(step, new.loop, t, round=f"r{new.version}") for t in event.targets)
    timeout = plan.steps[step].timeout if plan and step < len(plan.steps) else 0.0
    return Decision(new, (note, *pages), now + timeout if timeout > 0 else None)


def _start(state: EscState, plan: Plan | None, now: float) -> Decision:
    if state.step >= 0 and state.status is Status.TRIGGERED:
        return Decision(state, refused="escalation already started")
    if plan is None or not plan.steps:
        new = replace(state, version=state.version + 1, started_at=now, exhausted=True)
        return Decision(new, (Note("escalation.none", data={"reason": "no policy for this incident"}),))
    new = replace(state, version=state.version + 1, started_at=now)
    return _enter(new, plan, 0, 0, now)


def _advance(state: EscState, plan: Plan | None, now: float, reason: str) -> Decision:
    if plan is None or not plan.steps:
        return _refused(state, Said.of(M_("no policy")))
    step, loop = state.step + 1, state.loop
    if step >= len(plan.steps):
        step, loop = 0, loop + 1
        out_of_loops = loop >= plan.loops
        out_of_time = (
            plan.max_seconds is not None
            and now - (now if state.started_at is None else state.started_at) >= plan.max_seconds
        )
        if out_of_loops or out_of_time:
            new = replace(state, version=state.version + 1, exhausted=True)
            why = "loops" if out_of_loops else "time"
            return Decision(
                new, (Note("escalation.exhausted", data={"limit": why, "loops": state.loop + 1}),)
            )
    new = replace(state, version=state.version + 1)
    d = _enter(new, plan, step, loop, now)
    if reason != "manual":
        d = replace(d, actions=(Note("escalation.advanced", data={"reason": reason}), *d.actions))
    return d


def _enter(state: EscState, plan: Plan, step: int, loop: int, now: float) -> Decision:
    spec = plan.steps[step]
    new = replace(state, step=step, loop=loop, step_started_at=now, exhausted=False)
    acts: list[Action] = [Note("step.started", data={"step": step, "loop": loop, "label": spec.label})]
    acts.extend(Notify(step, loop, t) for t in spec.targets)
    is_last = step == len(plan.steps) - 1 and loop + 1 >= plan.loops
    # The last step of the last loop still waits its timeout, so "exhausted" is recorded when it ends.
    next_due = now + spec.timeout if (spec.timeout > 0 or not is_last) else None
    return Decision(new, tuple(acts), next_due)
