"""Who may do what: roles, token scopes and the one decision every route asks (pure).

A person holds a role per team (and maybe a global one); a request carries a principal built from
the person and, for an API token, the token's scopes and team. A route declares a ``Need``: the
scope it requires and, for an object owned by a team, that team. ``decide`` answers allowed or not,
with the reason a 403 shows.

The levels are ordered: ``read`` < ``respond`` < ``manage`` < ``admin``; holding one includes those
below it, as PagerDuty's and Grafana OnCall's roles do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final


class Scope(IntEnum):
    READ = 1  # see incidents, services, schedules, monitors
    RESPOND = 2  # acknowledge, resolve, escalate, reassign, silence; take or swap one's own shifts
    MANAGE = 3  # edit the team's policies, schedules, overrides, silences, monitors
    ADMIN = 4  # everything: keys, users, tokens, channels

    @classmethod
    def parse(cls, text: str) -> Scope:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown scope {text!r}: one of {names}") from None


class Role(IntEnum):
    """A person's standing in a team (or everywhere): the highest scope it grants."""

    VIEWER = Scope.READ
    RESPONDER = Scope.RESPOND
    MANAGER = Scope.MANAGE
    ADMIN = Scope.ADMIN

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(r.name.lower() for r in cls)
            raise ValueError(f"unknown role {text!r}: one of {names}") from None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking. ``token_scope`` and ``token_team`` narrow what the person could do: a token
    never grants more than its owner holds."""

    person_id: str
    global_role: Role | None = None
    team_roles: dict[str, Role] = field(default_factory=dict)
    token_id: int | None = None
    token_scope: Scope | None = None
    token_team: str | None = None


@dataclass(frozen=True, slots=True)
class Need:
    scope: Scope
    team: str | None = None  # the owning team of the object acted on; None: not team-owned


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    reason: str  # why not, in words a 403 can carry; "" when allowed


ALLOWED: Final = Verdict(True, "")


def held(principal: Principal, team: str | None) -> Scope | None:
    """The highest scope the person holds for ``team`` (global role or team role), before the token."""
    levels = [principal.global_role] if principal.global_role is not None else []
    if team is not None and team in principal.team_roles:
        levels.append(principal.team_roles[team])
    if team is None and principal.team_roles:
        # An object no team owns (a global view, a person's own settings) is readable by any member.
        levels.append(Role.VIEWER)
    return Scope(max(levels)) if levels else None


def decide(principal: Principal, need: Need) -> Verdict:
    if principal.token_team is not None and need.team is not None and need.team != principal.token_team:
        return Verdict(False, f"this token is limited to team {principal.token_team!r}")
    if principal.token_team is not None and need.team is None and need.scope > Scope.READ:
        return Verdict(False, f"this token is limited to team {principal.token_team!r}")
    has = held(principal, need.team)
    if has is None or has < need.scope:
        where = f" in team {need.team!r}" if need.team else ""
        return Verdict(False, f"needs {need.scope.name.lower()}{where}")
    if principal.token_scope is not None and principal.token_scope < need.scope:
        has_name, need_name = principal.token_scope.name.lower(), need.scope.name.lower()
        return Verdict(False, f"the token's scope is {has_name}, not {need_name}")
    return ALLOWED
