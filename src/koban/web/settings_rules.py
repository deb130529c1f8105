"""What the settings pages decide without I/O: which sections a person may open, and whether an
object is managed by config as code (shown read-only, with a note saying so)."""

from __future__ import annotations

from dataclasses import dataclass

from koban.auth.audit import Door
from koban.auth.permissions import Need, Principal, Scope, decide
from koban.web.i18n import N_

# ``koban config apply`` (local: the config door; remote: the CLI's label on the config API).
CONFIG_DOORS = frozenset({Door.CONFIG, Door.CLI})


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
)


def sections_for(who: Principal) -> list[Section]:
    """The sections the person may open (the others' pages would refuse them)."""
    return [s for s in SECTIONS if decide(who, Need(s.needs)).allowed]


def yaml_managed(last_door: Door | None) -> bool:
    """An object last written by ``koban config apply`` belongs to the file: an edit elsewhere
    would be undone by the next apply. One with no entry at all was written outside every audited
    door (a first apply by an older koban, a seeded demo), so it too is the file's."""
    return last_door is None or last_door in CONFIG_DOORS
