"""The one alert shape every source produces and the pipeline consumes."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Severity(enum.StrEnum):
    """PagerDuty's four levels: the lingua franca most monitors can map to."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, value: str | None, default: Severity | None = None) -> Severity:
        """Accepts common spellings (``P1``, ``high``, ``disaster``...): no table per source."""
        if value is None or value == "":
            if default is None:
                raise ValueError("severity is required")
            return default
        key = str(value).strip().lower()
        if key in _ALIASES:
            return _ALIASES[key]
        raise ValueError(f"unknown severity {value!r}; use one of critical, error, warning, info")


_RANK = {Severity.CRITICAL: 4, Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}
_ALIASES: dict[str, Severity] = {
    **{s.value: s for s in Severity},
    "crit": Severity.CRITICAL,
    "p1": Severity.CRITICAL,
    "disaster": Severity.CRITICAL,
    "fatal": Severity.CRITICAL,
    "page": Severity.CRITICAL,
    "emergency": Severity.CRITICAL,
    "high": Severity.ERROR,
    "p2": Severity.ERROR,
    "err": Severity.ERROR,
    "major": Severity.ERROR,
    "average": Severity.ERROR,
    "warn": Severity.WARNING,
    "p3": Severity.WARNING,
    "minor": Severity.WARNING,
    "medium": Severity.WARNING,
    "low": Severity.INFO,
    "p4": Severity.INFO,
    "p5": Severity.INFO,
    "information": Severity.INFO,
    "informational": Severity.INFO,
    "not classified": Severity.INFO,
    "none": Severity.INFO,
    "notice": Severity.INFO,
    "debug": Severity.INFO,
    "ok": Severity.INFO,
}


class AlertAction(enum.StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One alert as a source reported it, normalised.

    ``dedup_key`` identifies the alert within its service: repeats update the same open incident and
    a ``resolve`` with the same key closes it. ``group_key`` (optional) lets several alerts share one
    incident (Alertmanager's groupKey); when absent the dedup key is the group.
    ``occurred_at`` is when the source says it happened (may be None: then the receive time is used).
    """

    dedup_key: str
    action: AlertAction = AlertAction.TRIGGER
    severity: Severity = Severity.CRITICAL
    summary: str = ""
    source: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    links: tuple[Mapping[str, str], ...] = ()
    group_key: str | None = None
    occurred_at: datetime | None = None
    ends_at: datetime | None = None

    @property
    def incident_key(self) -> str:
        return self.group_key or self.dedup_key
