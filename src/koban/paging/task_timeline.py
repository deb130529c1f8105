"""What a task's timeline says when someone starts or finishes it (pure; docs/calendars.md).

A task is an incident of kind ``task`` opened by a calendar event (calendars/tasks.py). Start is
its acknowledge and Done its resolve; besides the usual entries, the timeline gets ``task.started``
and ``task.done`` with who did it and how long after the event's start (negative: before it), the
figure seed 004's team tracked ("time from event start to started").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

_ENTRY = {"acknowledged": "task.started", "resolved": "task.done"}


def task_entries(
    incident: Mapping[str, Any], before: str, actor: str | None, now: float
) -> list[tuple[str, dict[str, Any]]]:
    """The (kind, data) entries an action that moved ``incident`` from ``before`` adds: none unless
    the incident is a task that was just started or finished."""
    details = incident.get("details") or {}
    kind = _ENTRY.get(str(incident.get("status")))
    if details.get("kind") != "task" or kind is None or str(before) == str(incident.get("status")):
        return []
    data: dict[str, Any] = {"by": actor}
    try:
        start = datetime.fromisoformat(str(details["event_start"])).timestamp()
    except (KeyError, ValueError):
        return [(kind, data)]
    data["event_start"] = details["event_start"]
    data["after_event_start_seconds"] = round(now - start, 3)
    return [(kind, data)]
