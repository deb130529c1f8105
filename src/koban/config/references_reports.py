"""Cross-object checks for scheduled reports: the channels, people and services they name exist,
and every recipient can be reached by the channel named for it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from koban.config.model_reports import REPORT_CHANNEL_TYPES

if TYPE_CHECKING:
    from koban.config.model import ConfigFile

Loc = tuple[Any, ...]


def report_problems(cfg: ConfigFile) -> Iterator[tuple[Loc, str]]:
    channels = {c.id: c.type for c in cfg.channels}
    people = {p.id: p for p in cfg.people}
    services = {s.id for s in cfg.services}
    counts = Counter(s.id for s in cfg.report_schedules)
    for si, sched in enumerate(cfg.report_schedules):
        at: Loc = ("report_schedules", si)
        if counts[sched.id] > 1:
            yield (*at, "id"), f"duplicate id {sched.id!r}"
        for vi, service in enumerate(sched.services or ()):
            if service not in services:
                yield (*at, "services", vi), f"unknown service {service!r}"
        for ti, target in enumerate(sched.send_to):
            where = (*at, "send_to", ti)
            kind = channels.get(target.channel)
            if kind is None:
                yield (*where, "channel"), f"unknown channel {target.channel!r}"
                continue
            if kind not in REPORT_CHANNEL_TYPES:
                yield (
                    (*where, "channel"),
                    (f"a {kind} channel cannot take reports (use {', '.join(REPORT_CHANNEL_TYPES)})"),
                )
            if target.person is not None:
                person = people.get(target.person)
                if person is None:
                    yield (*where, "person"), f"unknown person {target.person!r}"
                elif kind == "email" and not person.contacts.get("email"):
                    yield (*where, "person"), f"{person.id} has no email contact"
            elif kind == "email" and not target.address:
                yield where, "an email channel needs an address or a person"
            if target.address is not None and kind == "email" and "@" not in target.address:
                yield (*where, "address"), f"not an email address: {target.address!r}"
