"""Single sign-on (``sso:``): the OpenID Connect provider, and which of its groups give which roles.

The client secret is best written as ``${NAME}``: the file and the database then hold only the
name, and each instance reads the value from its own environment when a sign-in needs it. A
literal secret is accepted too; it is sealed at rest like a channel's (``core/sealing.py``, the
field's name matches its rule) and the API never shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from koban.config.base import Strict

RoleName = Literal["viewer", "responder", "manager", "admin"]
ROLES: tuple[str, ...] = ("viewer", "responder", "manager", "admin")  # lowest first
ENV_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def env_reference(value: str) -> str | None:
    """The variable ``${NAME}`` names, or None for a literal value."""
    m = ENV_REFERENCE.match(value)
    return m.group(1) if m else None


class GroupMapping(Strict):
    """``{group, team, role}`` or ``{group, global_role}``: members of the provider's group get it."""

    group: str = Field(min_length=1)
    team: str | None = None
    role: RoleName | None = None
    global_role: RoleName | None = None

    @model_validator(mode="after")
    def _one_grant(self) -> GroupMapping:
        if self.global_role is not None:
            if self.team is not None or self.role is not None:
                raise ValueError("a mapping gives either a team and a role, or a global_role, not both")
        elif self.team is None or self.role is None:
            raise ValueError("a mapping names a team and a role (viewer, responder, manager, admin)")
        return self


class Sso(Strict):
    issuer: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1, repr=False)  # ${NAME}, or the secret itself
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    group_claim: str = Field("groups", min_length=1)
    group_mapping: list[GroupMapping] = Field(default_factory=list)

    @field_validator("issuer")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("https://", "http://")):
            raise ValueError("the issuer is the provider's URL (https://...)")
        return v

    @field_validator("client_secret")
    @classmethod
    def _reference(cls, v: str) -> str:
        if v.startswith("${") and env_reference(v) is None:
            raise ValueError("write an environment reference as ${NAME} (letters, digits, '_')")
        return v

    @field_validator("scopes", mode="before")
    @classmethod
    def _scope_list(cls, v: Any) -> Any:
        return v.split() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _openid(self) -> Sso:
        if "openid" not in self.scopes:
            raise ValueError("scopes must include openid")
        return self


def highest(a: str | None, b: str) -> str:
    return b if a is None or ROLES.index(b) > ROLES.index(a) else a


def ceilings(sso: Sso | None) -> tuple[dict[str, str], str | None]:
    """The most any group of the mapping could give: per team, and globally (None: nothing)."""
    teams: dict[str, str] = {}
    top: str | None = None
    for m in sso.group_mapping if sso is not None else ():
        if m.global_role is not None:
            top = highest(top, m.global_role)
        elif m.team is not None and m.role is not None:
            teams[m.team] = highest(teams.get(m.team), m.role)
    return teams, top


def sso_problems(sso: Sso, teams: set[str]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """References a schema cannot check: every mapped team exists."""
    for mi, m in enumerate(sso.group_mapping):
        if m.team is not None and m.team not in teams:
            yield ("sso", "group_mapping", mi, "team"), f"unknown team {m.team!r}"
