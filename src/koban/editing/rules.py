"""What an edit decides without I/O: whether an object belongs to config as code, and which
object a cross-reference problem is in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The audit trail's doors (``auth.audit.Door``, a string enum) of ``koban config apply``: local,
# the config door; remote, the CLI's label on the config API. Named as text so this module stays
# pure (the audit module does I/O).
CONFIG_DOORS = frozenset({"config", "cli"})


def yaml_managed(last_door: str | None) -> bool:
    """An object last written by ``koban config apply`` belongs to the file: an edit elsewhere
    would be undone by the next apply. One with no entry at all was written outside every audited
    door (a first apply by an older koban, a seeded demo), so it too is the file's."""
    return last_door is None or last_door in CONFIG_DOORS


def holder(cfg: Any, loc: Sequence[Any]) -> tuple[str, str]:
    """The (section, id) of the object a problem's place is in: ``("policies", 0, "steps", ...)``
    is the first policy's id. A place that is not in a list of objects (``sso``) is its section."""
    section = str(loc[0]) if loc else ""
    objects = getattr(cfg, section, None) if section else None
    if len(loc) > 1 and isinstance(loc[1], int) and isinstance(objects, list) and loc[1] < len(objects):
        return section, str(getattr(objects[loc[1]], "id", loc[1]))
    return section, ""
