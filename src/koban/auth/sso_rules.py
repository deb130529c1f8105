"""Single sign-on: what the provider's groups give a person (pure).

The rule, at every sign-on through a configured ``sso:`` section:

- each ``group_mapping`` entry whose group is in the verified ID token's group claim grants its
  team role or global role; when several grant a role in one team, the highest wins;
- the memberships a sign-on gave before are replaced by what the groups give now, so someone
  taken out of a group at the provider loses its role at their next sign-on;
- a membership the file's ``teams:`` gives is the file's: a sign-on neither raises, lowers nor
  removes it (the person's role in that team is the file's);
- the global role from groups is kept apart from the one ``koban user create`` gives; a person
  holds the higher of the two.

``koban config apply`` cannot know anyone's groups, but it bounds what sign-ons gave to what the
new mapping could still give (``Sso.ceilings``, ``catalog/sso_apply.py``): a mapping removed from
the file stops granting at once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from koban.auth.permissions import Role
from koban.config.model_sso import GroupMapping, env_reference


@dataclass(frozen=True, slots=True)
class Granted:
    team_roles: dict[str, Role] = field(default_factory=dict)
    global_role: Role | None = None


@dataclass(frozen=True, slots=True)
class MembershipPlan:
    """The rows to write for one person: ``upsert`` team -> role, ``delete`` teams."""

    upsert: dict[str, Role]
    delete: frozenset[str]
    global_role: Role | None
    changed: bool


def _higher(a: Role | None, b: Role) -> Role:
    return b if a is None or b > a else a


def granted_by(groups: Iterable[str], mappings: Iterable[GroupMapping]) -> Granted:
    """The highest role per team, and the highest global role, the groups grant."""
    member_of = set(groups)
    teams: dict[str, Role] = {}
    global_role: Role | None = None
    for m in mappings:
        if m.group not in member_of:
            continue
        if m.global_role is not None:
            global_role = _higher(global_role, Role.parse(m.global_role))
        elif m.team is not None and m.role is not None:
            teams[m.team] = _higher(teams.get(m.team), Role.parse(m.role))
    return Granted(teams, global_role)


def plan_memberships(
    granted: Granted,
    *,
    from_sso: Mapping[str, Role],
    from_config: Collection[str],
    sso_global: Role | None,
) -> MembershipPlan:
    """``from_sso``: the person's team roles a sign-on gave; ``from_config``: their teams in the file."""
    wanted = {t: r for t, r in granted.team_roles.items() if t not in from_config}
    upsert = {t: r for t, r in wanted.items() if from_sso.get(t) != r}
    delete = frozenset(t for t in from_sso if t not in wanted)
    changed = bool(upsert or delete) or sso_global != granted.global_role
    return MembershipPlan(upsert, delete, granted.global_role, changed)


def client_secret(value: str, environ: Mapping[str, str]) -> str | None:
    """The secret itself: a ``${NAME}`` reference read from ``environ``; None when it is not set."""
    name = env_reference(value)
    if name is None:
        return value
    return environ.get(name) or None
