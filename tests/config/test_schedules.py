"""The ``schedules:`` section: layers, restrictions, changes and overrides as people write them."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from koban.config.loader import ConfigError, parse_config

PEOPLE = (
    "people: [{id: alice, notify: [log]}, {id: bob, notify: [log]}]\nchannels: [{id: log, type: console}]\n"
)

SCHEDULE = (
    PEOPLE
    + """
teams: [{id: web}]
schedules:
  - id: primary
    team: web
    timezone: Asia/Tokyo
    layers:
      - name: weekly
        members: [alice, bob]
        start: 2026-01-05
        handoff: 10:00
      - name: office
        members: [bob]
        rotation: daily
        start: 2026-01-05
        restrictions: [{days: [mon, tue, wed, thu, fri], from: 9:30, to: 18:00}]
        changes: [{at: "2026-06-01T00:00:00+09:00", members: [alice]}]
    overrides:
      - {id: ill, start: "2026-02-02T10:00:00+09:00", end: "2026-02-03T10:00:00+09:00", person: bob}
policies: [{id: p, team: web, steps: [{notify: [{schedule: primary}]}]}]
"""
)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(text, "f.yaml")
    return [str(p) for p in exc.value.problems]


def test_a_schedule_reads_with_wall_clock_times_not_yaml_base_60_numbers() -> None:
    [s] = parse_config(SCHEDULE).schedules
    weekly, office = s.layers
    assert (weekly.start, weekly.handoff) == (date(2026, 1, 5), time(10, 0))
    assert (office.restrictions[0].from_, office.restrictions[0].to) == (time(9, 30), time(18, 0))
    assert s.overrides[0].person == "bob" and s.team == "web"


def test_people_a_schedule_names_must_exist() -> None:
    text = SCHEDULE.replace("members: [alice, bob]", "members: [alice, zoe]").replace(
        "person: bob}", "person: yves}"
    )
    assert problems(text) == [
        "line 11: schedules[0].layers[0].members[1]: unknown person 'zoe'",
        "line 21: schedules[0].overrides[0].person: unknown person 'yves'",
    ]


def test_a_policy_can_target_only_a_schedule_that_exists() -> None:
    assert problems(SCHEDULE.replace("{schedule: primary}", "{schedule: secondary}")) == [
        "line 22: policies[0].steps[0].notify[0].schedule: unknown schedule 'secondary'"
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("timezone: Asia/Tokyo", "unknown time zone 'Mars/Olympus'"),
        ("rotation: daily", "not an RFC 5545 RRULE"),
        ('end: "2026-02-03T10:00:00+09:00"', "give the offset"),
        ("team: web\n    timezone", "unknown team 'ops'"),
        ("{schedule: primary}", "mode does not apply"),
    ],
)
def test_mistakes_are_reported_plainly(change: str, message: str) -> None:
    wrong = {
        "timezone: Asia/Tokyo": "timezone: Mars/Olympus",
        "rotation: daily": "rrule: FREQ=SOMETIMES",
        'end: "2026-02-03T10:00:00+09:00"': 'end: "2026-02-03T10:00:00"',
        "team: web\n    timezone": "team: ops\n    timezone",
        "{schedule: primary}": "{schedule: primary, mode: all}",
    }[change]
    assert any(message in p for p in problems(SCHEDULE.replace(change, wrong)))


def test_the_example_in_docs_schedules_md_passes_the_check() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "schedules.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    cast = "people: [" + ", ".join(f"{{id: {p}, notify: [log]}}" for p in ("alice", "bob", "carol", "dave"))
    prelude = (
        cast + "]\nchannels: [{id: log, type: console}, {id: voice, type: console}]\nteams: [{id: web}]\n"
    )
    cfg = parse_config(prelude + example)
    assert [layer.name for layer in cfg.schedules[0].layers] == ["week", "night"]
