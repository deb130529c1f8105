"""From the config's schedules (``config/model_schedules.py``) to the pure model (pure)."""

from __future__ import annotations

from koban.config import model_schedules as cfg
from koban.schedules import model as m
from koban.schedules.resolve import final

_DAY = {d: i for i, d in enumerate(cfg.WEEKDAYS)}


def schedule(s: cfg.Schedule) -> m.Schedule:
    return m.Schedule(s.id, s.timezone, tuple(_layer(i, x) for i, x in enumerate(s.layers)))


def _layer(index: int, x: cfg.Layer) -> m.Layer:
    return m.Layer(
        name=x.name or f"layer {index + 1}",
        members=tuple(x.members),
        rotation=m.Rotation(x.rotation, x.every, x.rrule),
        start=x.start,
        handoff=x.handoff,
        restrictions=tuple(
            m.Window(frozenset(_DAY[d] for d in r.days), r.from_, r.to) for r in x.restrictions
        ),
        changes=tuple(m.MemberChange(c.at.timestamp(), tuple(c.members)) for c in x.changes),
    )


def overrides(s: cfg.Schedule) -> list[m.Override]:
    return [
        m.Override(o.start.timestamp(), o.end.timestamp(), o.person, o.kind, o.replaces, o.id or f"#{i + 1}")
        for i, o in enumerate(s.overrides)
    ]


def resolved(s: cfg.Schedule, start: float, end: float) -> list[m.Slot]:
    return final(schedule(s), overrides(s), start, end)


def on_call(s: cfg.Schedule, at: float, horizon: float = 35 * 86400.0) -> m.Slot:
    """The slot in progress at ``at``, with its real start and end when within ``horizon`` of it."""
    return next(x for x in resolved(s, at - horizon, at + horizon) if x.start <= at < x.end)
