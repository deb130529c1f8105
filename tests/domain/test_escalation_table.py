"""Lifecycle and escalation as tables: (time, event) rows in, state and pages out. No I/O.

Each scenario replays events through the pure ``decide`` the way the worker does (timers fire at
``next_due`` with the version they were made for) and checks who was paged, in which order, and the
final state. Reading a row tells the whole story of an incident.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from koban.domain.escalation import (
    Acknowledge,
    Decision,
    EscalateNow,
    EscState,
    Event,
    Notify,
    Reassign,
    Resolve,
    Retrigger,
    Start,
    Status,
    StepExhausted,
    Timer,
    decide,
)
from koban.domain.plan import Plan, PlanStep, PlanTarget

ALICE = PlanTarget("phone", "alice")
BOB = PlanTarget("phone", "bob")
SLACK = PlanTarget("slack")
ROTA = PlanTarget("phone", members=("alice", "bob", "carol"))


def plan(
    *steps: tuple[tuple[PlanTarget, ...], float], loops: int = 1, max_seconds: float | None = None
) -> Plan:
    return Plan(
        "p", tuple(PlanStep(t, timeout) for t, timeout in steps), loops=loops, max_seconds=max_seconds
    )


TIMER = "timer"  # fire the pending timer (with its own version) at the given time


@dataclass
class Run:
    state: EscState
    due: float | None
    paged: list[str]
    notes: list[str]
    refused: list[str]


def replay(p: Plan | None, rows: list[tuple[float, Event | str]]) -> Run:
    state, due, fence = EscState(), None, 0
    paged: list[str] = []
    notes: list[str] = []
    refused: list[str] = []
    for at, ev in rows:
        if ev == TIMER:
            assert due is not None and at >= due, f"no timer due at {at}"
            ev = Timer(fence)
        d: Decision = decide(state, p, ev, at)  # type: ignore[arg-type]
        if d.refused:
            refused.append(d.refused)
        for a in d.actions:
            if isinstance(a, Notify):
                paged.append(f"{at:g}:{a.target.key(a.loop)}")
            else:
                notes.append(getattr(a, "kind", type(a).__name__))
        if d.state.version != state.version:
            due, fence = d.next_due, d.state.version
        state = d.state
    return Run(state, due, paged, notes, refused)


SCENARIOS = {
    # seed 002: Slack first, then calls; acknowledged on the phone at t=70.
    "ack stops the escalation": (
        plan(((SLACK,), 60), ((ALICE,), 120)),
        [(0, Start()), (60, TIMER), (70, Acknowledge("alice", "voice"))],
        ["0:slack", "60:phone/alice"],
        Status.ACKNOWLEDGED,
        None,
    ),
    # seed 000: the rotation, one member per loop, until someone answers (capped at 3 loops).
    "rotation loops member by member": (
        plan(((ROTA,), 30), loops=3),
        [(0, Start()), (30, TIMER), (60, TIMER), (90, TIMER)],
        ["0:phone/alice", "30:phone/bob", "60:phone/carol"],
        Status.TRIGGERED,
        "exhausted",
    ),
    "no one reached moves on before the timeout": (
        plan(((ALICE,), 300), ((BOB,), 300)),
        [(0, Start()), (25, StepExhausted(0, 0))],
        ["0:phone/alice", "25:phone/bob"],
        Status.TRIGGERED,
        None,
    ),
    "a late exhaustion report for a step already left is ignored": (
        plan(((ALICE,), 30), ((BOB,), 30)),
        [(0, Start()), (30, TIMER), (31, StepExhausted(0, 0))],
        ["0:phone/alice", "30:phone/bob"],
        Status.TRIGGERED,
        None,
    ),
    "time cap ends the loops": (
        plan(((ALICE,), 100), loops=10, max_seconds=250),
        [(0, Start()), (100, TIMER), (200, TIMER), (300, TIMER)],
        ["0:phone/alice", "100:phone/alice", "200:phone/alice"],
        Status.TRIGGERED,
        "exhausted",
    ),
    "escalate now skips the wait": (
        plan(((ALICE,), 600), ((BOB,), 600)),
        [(0, Start()), (5, EscalateNow("carol"))],
        ["0:phone/alice", "5:phone/bob"],
        Status.TRIGGERED,
        None,
    ),
    "resolve from the source ends everything": (
        plan(((ALICE,), 60), ((BOB,), 60)),
        [(0, Start()), (10, Resolve(None, "alertmanager"))],
        ["0:phone/alice"],
        Status.RESOLVED,
        None,
    ),
    "retrigger after acknowledge pages from the top": (
        plan(((ALICE,), 60), ((BOB,), 60)),
        [(0, Start()), (5, Acknowledge("alice")), (100, Retrigger())],
        ["0:phone/alice", "100:phone/alice"],
        Status.TRIGGERED,
        None,
    ),
    "reassign pages the new person and keeps the step's timeout": (
        plan(((ALICE,), 60), ((BOB,), 60)),
        [(0, Start()), (10, Reassign("carol", (PlanTarget("phone", "carol"),))), (70, TIMER)],
        ["0:phone/alice", "10:phone/carol", "70:phone/bob"],
        Status.TRIGGERED,
        None,
    ),
    "no policy: recorded, nobody paged": (
        None,
        [(0, Start())],
        [],
        Status.TRIGGERED,
        "escalation.none",
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_escalation_table(name: str) -> None:
    p, rows, pages, status, note = SCENARIOS[name]
    run = replay(p, rows)
    assert run.paged == pages
    assert run.state.status is status
    if note == "exhausted":
        assert run.state.exhausted and "escalation.exhausted" in run.notes
    elif note:
        assert note in run.notes


def test_stale_timer_after_ack_does_nothing() -> None:
    p = plan(((ALICE,), 60), ((BOB,), 60))
    started = decide(EscState(), p, Start(), 0)
    acked = decide(started.state, p, Acknowledge("alice"), 10)
    late = decide(acked.state, p, Timer(started.state.version), 60)
    assert late.refused == "stale timer" and late.state == acked.state and not late.actions


@pytest.mark.parametrize(
    ("first", "second", "refusal"),
    [
        (Acknowledge("a"), Acknowledge("b"), "incident is already acknowledged"),
        (Resolve("a"), Acknowledge("b"), "incident is already resolved"),
        (Resolve("a"), Resolve("b"), "incident is already resolved"),
        (Resolve("a"), EscalateNow("b"), "incident is resolved"),
    ],
)
def test_lifecycle_refusals_say_why_and_change_nothing(first: Event, second: Event, refusal: str) -> None:
    p = plan(((ALICE,), 60))
    s = decide(decide(EscState(), p, Start(), 0).state, p, first, 1).state
    d = decide(s, p, second, 2)
    assert d.refused == refusal and d.state == s and not d.actions


def test_every_transition_bumps_the_version_so_timers_are_fenced() -> None:
    p = plan(((ALICE,), 60), ((BOB,), 60), loops=2)
    s, versions = EscState(), []
    for at, ev in [(0, Start()), (60, Timer(1)), (70, Acknowledge()), (80, Retrigger()), (90, Resolve())]:
        d = decide(s, p, ev, at)
        assert d.refused is None, (ev, d.refused)
        s = d.state
        versions.append(s.version)
    assert versions == sorted(set(versions))
