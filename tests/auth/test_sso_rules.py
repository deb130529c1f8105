"""What the provider's groups give at a sign-on (pure): the highest role per team, only the
sign-on's own memberships replaced, the file's left alone; the client secret from the environment."""

from __future__ import annotations

import pytest

from koban.auth.permissions import Role
from koban.auth.sso_rules import Granted, client_secret, granted_by, plan_memberships
from koban.config.model_sso import GroupMapping, Sso, ceilings

MAPPING = [
    GroupMapping(group="web-oncall", team="web", role="responder"),
    GroupMapping(group="web-leads", team="web", role="manager"),
    GroupMapping(group="db-readers", team="db", role="viewer"),
    GroupMapping(group="koban-admins", global_role="admin"),
]


def test_each_team_gets_the_highest_role_its_groups_grant() -> None:
    got = granted_by(["web-oncall", "web-leads", "db-readers"], MAPPING)
    assert got == Granted({"web": Role.MANAGER, "db": Role.VIEWER}, None)


def test_unknown_groups_grant_nothing() -> None:
    assert granted_by(["marketing", "everyone"], MAPPING) == Granted()


def test_a_global_mapping_grants_a_global_role() -> None:
    assert granted_by(["koban-admins"], MAPPING) == Granted({}, Role.ADMIN)


def test_a_role_the_groups_no_longer_grant_is_removed_and_a_new_one_written() -> None:
    plan = plan_memberships(
        Granted({"db": Role.VIEWER}), from_sso={"web": Role.RESPONDER}, from_config=(), sso_global=None
    )
    assert plan.upsert == {"db": Role.VIEWER} and plan.delete == {"web"} and plan.changed


def test_a_team_the_file_gives_is_left_to_the_file() -> None:
    plan = plan_memberships(Granted({"web": Role.ADMIN}), from_sso={}, from_config={"web"}, sso_global=None)
    assert plan.upsert == {} and plan.delete == frozenset() and not plan.changed


def test_the_same_groups_again_change_nothing() -> None:
    plan = plan_memberships(
        Granted({"web": Role.MANAGER}, Role.ADMIN),
        from_sso={"web": Role.MANAGER},
        from_config=(),
        sso_global=Role.ADMIN,
    )
    assert not plan.changed


def test_losing_the_global_group_is_a_change() -> None:
    plan = plan_memberships(Granted(), from_sso={}, from_config=(), sso_global=Role.ADMIN)
    assert plan.changed and plan.global_role is None


def test_the_ceilings_are_the_most_any_group_could_give() -> None:
    sso = Sso(issuer="https://idp.test", client_id="koban", client_secret="s", group_mapping=MAPPING)
    assert ceilings(sso) == ({"web": "manager", "db": "viewer"}, "admin")
    assert ceilings(None) == ({}, None)


@pytest.mark.parametrize(
    ("value", "environ", "secret"),
    [
        ("${KOBAN_SSO_SECRET}", {"KOBAN_SSO_SECRET": "s3"}, "s3"),
        ("${KOBAN_SSO_SECRET}", {}, None),
        ("${KOBAN_SSO_SECRET}", {"KOBAN_SSO_SECRET": ""}, None),
        ("literal-secret", {}, "literal-secret"),
    ],
)
def test_the_client_secret_is_read_from_the_environment_it_names(value, environ, secret) -> None:
    assert client_secret(value, environ) == secret
