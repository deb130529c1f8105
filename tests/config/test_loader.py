"""`koban config check`: problems come back with line numbers and a reason, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from koban.config.loader import ConfigError, load_config, parse_config

EXAMPLES = Path(__file__).parents[2] / "examples"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(text, "f.yaml")
    return [str(p) for p in exc.value.problems]


def test_a_section_given_twice_is_reported_with_both_lines() -> None:
    assert problems("people: []\nservices: []\npeople: []\n") == [
        "line 3: people: given twice (first on line 1)"
    ]


def test_a_key_given_twice_inside_an_object_is_reported() -> None:
    got = problems("people:\n  - id: a\n    name: A\n    name: B\n")
    assert got == ["line 4: people[0].name: given twice (first on line 3)"]


def test_duplicate_ids_and_unknown_fields_name_the_line() -> None:
    assert any("duplicate id 'a'" in p for p in problems("people:\n  - id: a\n  - id: a\n"))
    assert problems("people:\n  - id: a\n    nmae: A\n") == ["line 3: people[0].nmae: unknown field"]


def test_not_yaml_names_the_line() -> None:
    (only,) = problems("people:\n  - id: [a\n")
    assert "not valid YAML" in only


@pytest.mark.parametrize("name", ["demo.yaml", "routing.yaml", "seed-002-slack-calls.yaml"])
def test_shipped_examples_pass_the_check(name: str) -> None:
    load_config(EXAMPLES / name)


def test_teams_name_known_people_and_objects_name_known_teams():
    from koban.config.model import ConfigFile
    from koban.config.references import check_references

    cfg = ConfigFile.model_validate(
        {
            "teams": [{"id": "web", "members": [{"person": "alice", "role": "manager"}, {"person": "zed"}]}],
            "people": [{"id": "alice"}],
            "policies": [{"id": "p", "team": "ops", "steps": [{"notify": [{"person": "alice", "via": []}]}]}],
        }
    )
    problems = {(".".join(map(str, loc)), msg) for loc, msg in check_references(cfg)}
    assert ("teams.0.members.1.person", "unknown person 'zed'") in problems
    assert ("policies.0.team", "unknown team 'ops'") in problems


SSO = """
teams:
  - id: web
sso:
  issuer: https://idp.example.test
  client_id: koban
  client_secret: ${KOBAN_SSO_SECRET}
  group_mapping:
    - {group: web-oncall, team: web, role: responder}
    - {group: koban-admins, global_role: admin}
"""


def test_an_sso_section_with_known_teams_passes_the_check() -> None:
    cfg = parse_config(SSO)
    assert cfg.sso is not None and cfg.sso.group_claim == "groups"
    assert cfg.sso.scopes == ["openid", "email", "profile"]
    literal = cfg.sso.model_copy(update={"client_secret": "hunter2-secret"})
    assert "hunter2" not in repr(literal)  # a traceback or a log line never shows it


def test_a_group_mapped_to_an_unknown_team_is_refused_with_its_line() -> None:
    text = SSO.replace("team: web, role", "team: payments, role")
    assert problems(text) == ["line 9: sso.group_mapping[0].team: unknown team 'payments'"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{group: g, team: web}", "a mapping names a team and a role"),
        ("{group: g, team: web, role: admin, global_role: admin}", "either a team and a role"),
        ("{group: g, team: web, role: owner}", "Input should be 'viewer', 'responder'"),
    ],
)
def test_a_mapping_gives_a_team_role_or_a_global_role(entry: str, message: str) -> None:
    text = SSO.replace("{group: web-oncall, team: web, role: responder}", entry)
    assert any(message in p for p in problems(text)), problems(text)


def test_a_malformed_environment_reference_is_refused() -> None:
    (only,) = problems(SSO.replace("${KOBAN_SSO_SECRET}", "${not-a-name}"))
    assert "sso.client_secret" in only and "${NAME}" in only
