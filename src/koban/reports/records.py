"""The plain records every report reads, and the period it covers. Pure: no I/O, no clock.

``reports/load.py`` fills these from the database; the report functions take them and ``as_of``
(the moment the report is made), so a test can build them by hand and every figure recomputes from
the same raw events the incident view shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from koban.domain.time_to_wake import TimeToWake


@dataclass(frozen=True, slots=True)
class Period:
    """``[since, until)`` in epoch seconds; ``tz`` names the zone days, weeks and months are cut in."""

    since: float
    until: float
    tz: str = "UTC"

    @property
    def previous(self) -> Period:
        """The period of the same length just before this one: what a trend compares against."""
        span = self.until - self.since
        return Period(self.since - span, self.since, self.tz)

    def holds(self, at: float) -> bool:
        return self.since <= at < self.until


@dataclass(frozen=True, slots=True)
class Facts:
    """A settled incident's clocks, made once from its raw events (``reports/incident_facts.py``)."""

    acknowledged_at: float | None
    acknowledged_by: str | None
    reassigned: bool
    # The time-to-wake moments, made when first asked (the response report never asks).
    make_wake: Callable[[], TimeToWake]

    @property
    def wake(self) -> TimeToWake:
        return self.make_wake()


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    id: int
    service: str
    team: str | None
    severity: str
    created_at: float
    resolved_at: float | None
    # Raw events, in the shapes ``domain.time_to_wake`` reads.
    timeline: Sequence[Mapping[str, Any]] = ()
    alerts: Sequence[Mapping[str, Any]] = ()
    deliveries: Sequence[Mapping[str, Any]] = ()
    key: str = ""
    # Set instead of the raw events for an incident settled before the report's ``as_of``.
    facts: Facts | None = None


class PageRecord(NamedTuple):
    """One page a channel accepted (a ``page`` delivery with ``sent_at``); a tuple: a year holds
    hundreds of thousands."""

    incident_id: int
    person: str | None
    channel: str
    channel_type: str
    sent_at: float


@dataclass(frozen=True, slots=True)
class PersonInfo:
    """Who a person is now; ``known`` is False for an id no longer in the config (deleted since)."""

    id: str
    name: str
    timezone: str = "UTC"
    known: bool = True


@dataclass(frozen=True, slots=True)
class ProbeMinute:
    """One minute of a monitor's history, summed over its locations (the minute rollups)."""

    monitor: str
    start: float
    count: int
    failures: int


class MonitorInfo(NamedTuple):  # a tuple: a report may list 100,000
    id: str
    name: str
    service: str


@dataclass(frozen=True, slots=True)
class Interval:
    start: float
    end: float
    label: str = ""  # a maintenance window's id


class DayTotals(NamedTuple):
    """Whole UTC days of a monitor's or a service's history, summed (``reports/summaries.py``)."""

    measured_minutes: int
    down_seconds: float
    first: float | None = None  # the first and last minute with results (monitors only)
    last: float | None = None


@dataclass(frozen=True, slots=True)
class AvailabilityInput:
    monitors: Sequence[MonitorInfo]
    minutes: Sequence[ProbeMinute]
    # Per service, the maintenance intervals clipped to the period (``reports/maintenance.py``).
    maintenance: Mapping[str, Sequence[Interval]] = field(default_factory=dict)
    # Incidents opened by a monitor (key ``monitor:<id>``) that overlap the period.
    incidents: Sequence[IncidentRecord] = ()
    # Summed days of the period (none of them in ``minutes``, none touched by maintenance).
    monitor_days: Mapping[str, DayTotals] = field(default_factory=dict)
    service_days: Mapping[str, DayTotals] = field(default_factory=dict)
