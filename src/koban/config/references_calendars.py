"""Cross-references of calendars: the schedule, services and policies they name must exist."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from koban.config.model import ConfigFile

Loc = tuple[Any, ...]


def calendar_problems(cfg: ConfigFile) -> Iterator[tuple[Loc, str]]:
    schedules = {s.id for s in cfg.schedules}
    services = {s.id for s in cfg.services}
    policies = {p.id for p in cfg.policies}
    ids = Counter(c.id for c in cfg.calendars)
    for ci, cal in enumerate(cfg.calendars):
        if ids[cal.id] > 1:
            yield ("calendars", ci, "id"), f"duplicate id {cal.id!r}"
        if cal.schedule is not None and cal.schedule not in schedules:
            yield ("calendars", ci, "schedule"), f"unknown schedule {cal.schedule!r}"
        rules = Counter(r.id for r in cal.tasks)
        for ri, rule in enumerate(cal.tasks):
            loc = ("calendars", ci, "tasks", ri)
            if rules[rule.id] > 1:
                yield (*loc, "id"), f"duplicate task rule id {rule.id!r}"
            if rule.service not in services:
                yield (*loc, "service"), f"unknown service {rule.service!r}"
            if rule.policy not in policies:
                yield (*loc, "policy"), f"unknown policy {rule.policy!r}"
