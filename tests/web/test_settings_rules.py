"""The settings pages' pure rules: which sections a person sees, what config as code manages."""

from __future__ import annotations

import pytest

from koban.auth.audit import Door
from koban.auth.permissions import Principal, Role, Scope
from koban.web.settings_rules import sections_for, yaml_managed


@pytest.mark.parametrize(
    ("door", "managed"),
    [
        (None, True),  # written outside every audited door: a first apply, a seeded demo
        (Door.CONFIG, True),  # koban config apply
        (Door.CLI, True),  # koban config apply --url (the config API, labelled by the CLI)
        (Door.API, False),
        (Door.UI, False),
    ],
)
def test_an_object_last_written_by_config_apply_is_the_files(door, managed):
    assert yaml_managed(door) is managed


def test_a_responder_sees_no_administrators_section():
    responder = Principal("bob", team_roles={"ops": Role.RESPONDER})
    admin = Principal("alice", global_role=Role.ADMIN)
    assert all(s.needs is Scope.READ for s in sections_for(responder))
    assert {s.path for s in sections_for(admin)} >= {"/settings/audit", "/settings/integrations"}
    assert sections_for(Principal("nobody")) == []
