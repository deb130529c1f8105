"""The one permission decision, as a table: role x token x team -> allowed, or the 403's reason."""

from __future__ import annotations

import pytest

from koban.auth.permissions import Need, Principal, Role, Scope, decide

ALICE_WEB_RESPONDER = Principal("alice", team_roles={"web": Role.RESPONDER})
BOB_WEB_MANAGER = Principal("bob", team_roles={"web": Role.MANAGER, "db": Role.VIEWER})
CAROL_ADMIN = Principal("carol", global_role=Role.ADMIN)


def token(p: Principal, scope: Scope, team: str | None = None) -> Principal:
    return Principal(p.person_id, p.global_role, p.team_roles, token_id=7, token_scope=scope, token_team=team)


@pytest.mark.parametrize(
    ("principal", "need", "reason"),
    [
        (ALICE_WEB_RESPONDER, Need(Scope.READ, "web"), ""),
        (ALICE_WEB_RESPONDER, Need(Scope.RESPOND, "web"), ""),
        (ALICE_WEB_RESPONDER, Need(Scope.MANAGE, "web"), "needs manage in team 'web'"),
        (ALICE_WEB_RESPONDER, Need(Scope.READ, "db"), "needs read in team 'db'"),
        (ALICE_WEB_RESPONDER, Need(Scope.READ), ""),  # a member reads what no team owns
        (ALICE_WEB_RESPONDER, Need(Scope.ADMIN), "needs admin"),
        (BOB_WEB_MANAGER, Need(Scope.MANAGE, "web"), ""),
        (BOB_WEB_MANAGER, Need(Scope.RESPOND, "db"), "needs respond in team 'db'"),
        (CAROL_ADMIN, Need(Scope.ADMIN), ""),
        (CAROL_ADMIN, Need(Scope.MANAGE, "anything"), ""),
        (Principal("dave"), Need(Scope.READ), "needs read"),  # a login with no team and no role
        # A token narrows, never widens.
        (
            token(CAROL_ADMIN, Scope.READ),
            Need(Scope.RESPOND, "web"),
            "the token's scope is read, not respond",
        ),
        (token(ALICE_WEB_RESPONDER, Scope.ADMIN), Need(Scope.MANAGE, "web"), "needs manage in team 'web'"),
        (token(BOB_WEB_MANAGER, Scope.MANAGE, "web"), Need(Scope.MANAGE, "web"), ""),
        (
            token(BOB_WEB_MANAGER, Scope.MANAGE, "web"),
            Need(Scope.READ, "db"),
            "this token is limited to team 'web'",
        ),
        (token(CAROL_ADMIN, Scope.ADMIN, "web"), Need(Scope.ADMIN), "this token is limited to team 'web'"),
        (token(CAROL_ADMIN, Scope.ADMIN, "web"), Need(Scope.READ), ""),
    ],
)
def test_decide(principal: Principal, need: Need, reason: str) -> None:
    verdict = decide(principal, need)
    assert (verdict.allowed, verdict.reason) == (reason == "", reason)


def test_scopes_and_roles_parse_with_a_clear_error() -> None:
    assert Scope.parse(" Manage ") is Scope.MANAGE and Role.parse("viewer") is Role.VIEWER
    with pytest.raises(ValueError, match="unknown scope 'root': one of read, respond, manage, admin"):
        Scope.parse("root")
