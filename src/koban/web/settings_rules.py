"""What the settings pages decide without I/O: which sections a person may open, and whether an
object is managed by config as code (shown read-only, with a note saying so: the rule is
the editing capability's, ``editing/rules.py``, which refuses a forged edit by it too)."""

from __future__ import annotations

from dataclasses import dataclass

from koban.auth.permissions import Need, Principal, Scope, decide
from koban.editing.rules import CONFIG_DOORS, yaml_managed
from koban.web.i18n import N_

__all__ = ["CONFIG_DOORS", "SECTIONS", "Section", "sections_for", "yaml_managed"]


@dataclass(frozen=True, slots=True)
class Section:
    path: str
    title: str  # an English message id; the template translates it
    about: str
    needs: Scope


SECTIONS = (
    Section(
        "/settings/people",
        N_("People and contacts"),
        N_("Who koban pages, and how to reach them."),
        Scope.READ,
    ),
    Section(
        "/settings/teams",
        N_("Teams and members"),
        N_("Who belongs to which team, with which role."),
        Scope.READ,
    ),
    Section("/settings/tokens", N_("API tokens"), N_("Your tokens for scripts and tools."), Scope.READ),
    Section("/settings/channels", N_("Channels"), N_("Where pages go, and whether that works."), Scope.READ),
    Section(
        "/settings/integrations",
        N_("Integrations and keys"),
        N_("What sends alerts, with its keys."),
        Scope.ADMIN,
    ),
    Section("/settings/audit", N_("Audit trail"), N_("Who changed what, when and from where."), Scope.ADMIN),
    Section(
        "/settings/config",
        N_("Configuration"),
        N_("Everything config as code sets, read-only: policies, services, routing and the rest."),
        Scope.ADMIN,
    ),
)


def sections_for(who: Principal) -> list[Section]:
    """The sections the person may open (the others' pages would refuse them)."""
    return [s for s in SECTIONS if decide(who, Need(s.needs)).allowed]
