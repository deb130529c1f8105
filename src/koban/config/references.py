"""Cross-object checks a schema cannot express: every id a config refers to must exist."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from koban.config.model import ConfigFile
from koban.config.model_sso import sso_problems
from koban.config.references_calendars import calendar_problems
from koban.config.references_logs import log_problems
from koban.config.references_reports import report_problems
from koban.config.references_routing import routing_problems
from koban.config.references_schedules import schedule_problems
from koban.config.references_status import status_problems

Loc = tuple[Any, ...]


def check_references(cfg: ConfigFile) -> list[tuple[Loc, str]]:
    return list(_problems(cfg))


def _duplicates(section: str, ids: list[str]) -> Iterator[tuple[Loc, str]]:
    counts = Counter(ids)
    for i, ident in enumerate(ids):
        if counts[ident] > 1:
            yield (section, i, "id"), f"duplicate id {ident!r}"


def _problems(cfg: ConfigFile) -> Iterator[tuple[Loc, str]]:
    people = {p.id for p in cfg.people}
    rotations = {r.id for r in cfg.rotations}
    schedules = {s.id for s in cfg.schedules}
    channels = {c.id for c in cfg.channels}
    policies = {p.id for p in cfg.policies}
    teams = {t.id for t in cfg.teams}
    for ti, team in enumerate(cfg.teams):
        for mi, m in enumerate(team.members):
            if m.person not in people:
                yield ("teams", ti, "members", mi, "person"), f"unknown person {m.person!r}"
    for section in ("rotations", "schedules", "policies", "services"):
        for oi, obj in enumerate(getattr(cfg, section)):
            if obj.team is not None and obj.team not in teams:
                yield (section, oi, "team"), f"unknown team {obj.team!r}"
    for section in (
        "teams",
        "people",
        "rotations",
        "schedules",
        "channels",
        "policies",
        "services",
        "monitors",
    ):
        yield from _duplicates(section, [o.id for o in getattr(cfg, section)])
    all_integrations = [
        (si, ii, i.id) for si, s in enumerate(cfg.services) for ii, i in enumerate(s.integrations)
    ]
    seen: set[str] = set()
    for si, ii, ident in all_integrations:
        if ident in seen:
            yield ("services", si, "integrations", ii, "id"), f"duplicate integration id {ident!r}"
        seen.add(ident)
    for pi, person in enumerate(cfg.people):
        for ci, ch in enumerate(person.notify):
            if ch not in channels:
                yield ("people", pi, "notify", ci), f"unknown channel {ch!r}"
    for ri, rot in enumerate(cfg.rotations):
        for mi, member in enumerate(rot.members):
            if member not in people:
                yield ("rotations", ri, "members", mi), f"unknown person {member!r}"
    for pi, pol in enumerate(cfg.policies):
        for si, step in enumerate(pol.steps):
            for ti, t in enumerate(step.notify):
                loc = ("policies", pi, "steps", si, "notify", ti)
                if t.person and t.person not in people:
                    yield (*loc, "person"), f"unknown person {t.person!r}"
                if t.rotation and t.rotation not in rotations:
                    yield (*loc, "rotation"), f"unknown rotation {t.rotation!r}"
                if t.schedule and t.schedule not in schedules:
                    yield (*loc, "schedule"), f"unknown schedule {t.schedule!r}"
                if t.channel and t.channel not in channels:
                    yield (*loc, "channel"), f"unknown channel {t.channel!r}"
                for vi, v in enumerate(t.via):
                    if v not in channels:
                        yield (*loc, "via", vi), f"unknown channel {v!r}"
                if t.person and not t.via:
                    target = next((p for p in cfg.people if p.id == t.person), None)
                    if target is not None and not target.notify:
                        yield loc, f"say how to reach {t.person!r}: add via, or notify on the person"
    for si, svc in enumerate(cfg.services):
        if svc.policy and svc.policy not in policies:
            yield ("services", si, "policy"), f"unknown policy {svc.policy!r}"
        for ri, route in enumerate(svc.routes):
            if route.policy and route.policy not in policies:
                yield ("services", si, "routes", ri, "policy"), f"unknown policy {route.policy!r}"
    services = {s.id for s in cfg.services}
    for mi, mon in enumerate(cfg.monitors):
        if mon.service not in services:
            yield ("monitors", mi, "service"), f"unknown service {mon.service!r}"
    yield from routing_problems(cfg)
    yield from schedule_problems(cfg, people)
    yield from calendar_problems(cfg)
    yield from log_problems(cfg)
    yield from report_problems(cfg)
    yield from status_problems(cfg)
    if cfg.sso is not None:
        yield from sso_problems(cfg.sso, teams)
