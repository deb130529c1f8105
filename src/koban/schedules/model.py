"""A schedule's shapes, as plain frozen values (pure): no config, no database, no clock.

``config/model_schedules.py`` parses the YAML/REST form and builds these (``schedules/build.py``);
tests build them directly. Instants are epoch seconds; wall-clock values are naive and read in the
schedule's zone. The rules they follow are in docs/schedules.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Literal

Unit = Literal["hourly", "daily", "weekly", "monthly"]
OverrideKind = Literal["add", "remove", "replace"]


@dataclass(frozen=True, slots=True)
class Rotation:
    """Handoffs every ``every`` units from the layer's anchor, or at each occurrence of ``rrule``."""

    unit: Unit = "weekly"
    every: int = 1
    rrule: str | None = None  # RFC 5545 RRULE body (``FREQ=DAILY;BYHOUR=8,20``); wins over unit


@dataclass(frozen=True, slots=True)
class Window:
    """On ``days`` (0 = Monday), from ``start`` to ``end`` local time; ``end <= start`` runs on
    past midnight into the next day (equal: the whole day)."""

    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class MemberChange:
    """From the first handoff at or after ``at``, the layer rotates through ``members`` instead,
    starting with the first; earlier shifts keep the people they had."""

    at: float
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    members: tuple[str, ...]
    rotation: Rotation
    # The anchor: the first handoff is on ``start`` at ``handoff``; shift k counts from it.
    start: date
    handoff: time = time(0, 0)
    restrictions: tuple[Window, ...] = ()  # none: always on
    changes: tuple[MemberChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Schedule:
    id: str
    timezone: str
    layers: tuple[Layer, ...] = ()  # the last one is the highest: it wins where it is on


@dataclass(frozen=True, slots=True)
class Override:
    """For [start, end): ``add`` ``person`` beside whoever is on; ``remove`` them; ``replace``
    ``replaces`` (anyone on call if None) by ``person``. Later overrides apply on top of earlier ones."""

    start: float
    end: float
    person: str
    kind: OverrideKind = "replace"
    replaces: str | None = None
    id: str = ""


@dataclass(frozen=True, slots=True)
class Temporary:
    """For [start, end) the layers are replaced by ``shifts`` ((start, end, people), fixed);
    an instant of the period no shift covers is a gap. A later temporary wins where they overlap."""

    start: float
    end: float
    shifts: tuple[tuple[float, float, tuple[str, ...]], ...] = ()
    id: str = ""


@dataclass(frozen=True, slots=True)
class Slot:
    """[start, end) on call: ``people`` (none: a gap), decided by ``source`` (``override:<id>``,
    ``temporary:<id>``, ``layer:<name>`` or ``gap``); ``layer`` is the layer underneath, if any."""

    start: float
    end: float
    people: tuple[str, ...]
    source: str
    layer: str | None = None
    overrides: tuple[str, ...] = field(default=())

    @property
    def gap(self) -> bool:
        return not self.people
