"""What an edit decides without I/O: whether an object belongs to config as code."""

from __future__ import annotations

# The audit trail's doors (``auth.audit.Door``, a string enum) of ``koban config apply``: local,
# the config door; remote, the CLI's label on the config API. Named as text so this module stays
# pure (the audit module does I/O).
CONFIG_DOORS = frozenset({"config", "cli"})


def yaml_managed(last_door: str | None) -> bool:
    """An object last written by ``koban config apply`` belongs to the file: an edit elsewhere
    would be undone by the next apply. One with no entry at all was written outside every audited
    door (a first apply by an older koban, a seeded demo), so it too is the file's."""
    return last_door is None or last_door in CONFIG_DOORS
