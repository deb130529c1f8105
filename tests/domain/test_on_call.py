"""Who a Slack message shows as on call, read from the frozen plan: a table, no database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from koban.domain.on_call import on_call_names
from koban.domain.plan import Plan, PlanStep, PlanTarget


@dataclass(frozen=True)
class P:
    id: str
    name: str = ""


PEOPLE = {"alice": P("alice", "Alice"), "bob": P("bob"), "carol": P("carol", "Carol")}
PLAN = Plan(
    policy_id="p",
    steps=(
        PlanStep(targets=(PlanTarget("team"), PlanTarget("slack", person="alice")), timeout=60),
        PlanStep(targets=(PlanTarget("voice", members=("bob", "carol"), offset=1),), timeout=60),
        PlanStep(targets=(PlanTarget("voice", person="alice"), PlanTarget("sms", person="dave")), timeout=60),
    ),
).to_json()


@pytest.mark.parametrize(
    ("step", "loop", "names"),
    [
        (0, 0, ["Alice", "Carol", "dave"]),  # team channels name nobody; unknown people by id
        (1, 0, ["Carol", "Alice", "dave"]),  # round robin: offset 1 -> carol on the first loop
        (1, 1, ["bob", "Alice", "dave"]),  # ... bob on the next (no display name: the id)
        (2, 0, ["Alice", "dave"]),
        (3, 0, []),  # past the last step
        (-1, 0, ["Alice", "Carol", "dave"]),
    ],
)
def test_names_the_people_paged_from_this_step_on_in_order(step, loop, names):
    assert on_call_names(PLAN, step, loop, PEOPLE) == names


def test_no_plan_names_nobody():
    assert on_call_names(None, 0, 0, PEOPLE) == []


def test_a_schedule_target_names_whoever_the_schedule_has_on_call():
    plan = Plan(
        policy_id="p",
        steps=(
            PlanStep(targets=(PlanTarget("", schedule="primary"),), timeout=60),
            PlanStep(targets=(PlanTarget("sms", person="alice"),), timeout=60),
        ),
    ).to_json()
    on = {"primary": ("carol", "bob")}
    assert on_call_names(plan, 0, 0, PEOPLE, lambda s: on[s]) == ["Carol", "bob", "Alice"]
    assert on_call_names(plan, 0, 0, PEOPLE) == ["Alice"]  # nobody to ask: the schedule names nobody
