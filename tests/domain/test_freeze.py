"""Freezing a policy: each rotation mode, and schedule targets left to resolve when the step fires."""

from __future__ import annotations

from datetime import UTC, datetime

from koban.config.model import ConfigFile
from koban.domain.freeze import freeze
from koban.domain.plan import Plan, PlanTarget

START = datetime(2026, 1, 1, tzinfo=UTC)
DAY = 86400.0


def make_cfg(*targets: dict) -> ConfigFile:
    return ConfigFile.model_validate(
        {
            "people": [{"id": n, "notify": ["sms"]} for n in ("alice", "bob", "carol")],
            "rotations": [
                {"id": "ops", "members": ["alice", "bob", "carol"], "shift": "1d", "start": START.isoformat()}
            ],
            "schedules": [{"id": "primary", "layers": [{"members": ["bob"], "start": "2026-01-01"}]}],
            "channels": [{"id": "sms", "type": "console"}, {"id": "voice", "type": "console"}],
            "policies": [{"id": "p", "steps": [{"notify": list(targets)}], "repeat": 2}],
        }
    )


def frozen(cfg: ConfigFile, days: float = 0) -> Plan:
    people = {p.id: p for p in cfg.people}
    rotations = {r.id: r for r in cfg.rotations}
    return freeze(cfg.policies[0], rotations, people, START.timestamp() + days * DAY)


def test_all_pages_every_member_at_once_starting_with_whoever_is_on_call() -> None:
    plan = frozen(make_cfg({"rotation": "ops", "mode": "all"}), days=1.5)
    assert len(plan.steps) == 1
    assert [t.person for t in plan.steps[0].targets] == ["bob", "carol", "alice"]
    assert {t.channel for t in plan.steps[0].targets} == {"sms"}


def test_all_through_via_pages_each_member_on_each_channel() -> None:
    plan = frozen(make_cfg({"rotation": "ops", "mode": "all", "via": ["sms", "voice"]}))
    assert [(t.person, t.channel) for t in plan.steps[0].targets] == [
        ("alice", "sms"),
        ("alice", "voice"),
        ("bob", "sms"),
        ("bob", "voice"),
        ("carol", "sms"),
        ("carol", "voice"),
    ]


def test_round_robin_pages_the_next_member_on_each_loop_of_the_policy() -> None:
    plan = frozen(make_cfg({"rotation": "ops", "mode": "round_robin"}), days=1.5)  # bob is on call
    [target] = plan.steps[0].targets
    assert [target.person_for(loop) for loop in range(plan.loops)] == ["bob", "carol", "alice"]
    assert len({target.key(loop) for loop in range(plan.loops)}) == 3  # one delivery key each
    assert Plan.from_json(plan.to_json()) == plan  # survives storage on the incident


def test_round_robin_wraps_around_the_members() -> None:
    plan = frozen(make_cfg({"rotation": "ops", "mode": "round_robin"}), days=2.2)  # carol
    assert [plan.steps[0].targets[0].person_for(loop) for loop in range(3)] == ["carol", "alice", "bob"]


def test_a_schedule_target_is_frozen_unresolved() -> None:
    plan = frozen(make_cfg({"schedule": "primary"}, {"schedule": "primary", "via": "voice"}))
    assert plan.steps[0].targets == (
        PlanTarget(channel="", schedule="primary"),
        PlanTarget(channel="voice", schedule="primary"),
    )
    assert Plan.from_json(plan.to_json()) == plan
