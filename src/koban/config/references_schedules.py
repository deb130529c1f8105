"""Cross-references of schedules: the people their layers, changes and overrides name must exist."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from koban.config.model import ConfigFile

Loc = tuple[Any, ...]


def schedule_problems(cfg: ConfigFile, people: set[str]) -> Iterator[tuple[Loc, str]]:
    channels = {c.id for c in cfg.channels}
    for si, sched in enumerate(cfg.schedules):
        if sched.notices and sched.notices.channel and sched.notices.channel not in channels:
            yield ("schedules", si, "notices", "channel"), f"unknown channel {sched.notices.channel!r}"
        group = sched.notices.usergroup if sched.notices else None
        if group is not None:
            loc_g = ("schedules", si, "notices", "usergroup", "channel")
            kind = next((c.type for c in cfg.channels if c.id == group.channel), None)
            if kind is None:
                yield loc_g, f"unknown channel {group.channel!r}"
            elif kind != "slack":
                yield loc_g, f"channel {group.channel!r} is {kind}: a user group is synced through Slack"
        for li, layer in enumerate(sched.layers):
            loc = ("schedules", si, "layers", li)
            for mi, m in enumerate(layer.members):
                if m not in people:
                    yield (*loc, "members", mi), f"unknown person {m!r}"
            for ci, change in enumerate(layer.changes):
                for mi, m in enumerate(change.members):
                    if m not in people:
                        yield (*loc, "changes", ci, "members", mi), f"unknown person {m!r}"
        ids = Counter(o.id for o in sched.overrides if o.id)
        for oi, o in enumerate(sched.overrides):
            loc = ("schedules", si, "overrides", oi)
            for field in ("person", "replaces"):
                who = getattr(o, field)
                if who is not None and who not in people:
                    yield (*loc, field), f"unknown person {who!r}"
            if o.id and ids[o.id] > 1:
                yield (*loc, "id"), f"duplicate override id {o.id!r}"
