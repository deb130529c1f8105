"""Routing objects in the configuration file: grouping, silences, maintenance, inhibition, heartbeats.

    services:
      - id: web
        grouping: {group_by: [alertname, cluster], group_wait: 30s, group_interval: 5m, repeat_interval: 4h}
    silences:
      - {id: db-upgrade, matchers: ['service="db"'], starts_at: ..., ends_at: ..., created_by: alice}
    maintenance:
      - {id: patching, services: [web], weekdays: [sun], start_time: "02:00", end_time: "04:00"}
    inhibit_rules:
      - {source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: [instance]}
    heartbeats:
      - {id: nightly-backup, service: web, period: 1d, grace: 1h, severity: critical}

The REST API accepts the same shapes. ``to_*`` methods build the pure objects of ``koban.routing``
and ``koban.sources.heartbeat``, so defaults and validation live in one place. This module imports
nothing from ``model.py`` (``model.py`` imports it), hence its own small base class.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from koban.config.durations import Duration
from koban.domain.alerts import Severity
from koban.routing.inhibition import InhibitRule as PureInhibitRule
from koban.routing.maintenance import MaintenanceWindow, WindowKind
from koban.routing.matchers import Matcher, MatchOp, parse_matcher
from koban.routing.routes import GroupTimers
from koban.routing.silences import Silence as PureSilence

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_id(v: str) -> str:
    if not _ID.match(v):
        raise ValueError(
            "ids are letters, digits, '.', '_' or '-' (max 128), starting with a letter or digit"
        )
    return v


def _td(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


def _or(seconds: float | None, default: timedelta) -> timedelta:
    return default if seconds is None else timedelta(seconds=seconds)


class _Identified(_Strict):
    id: str

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _check_id(v)


class Grouping(_Strict):
    """Alertmanager's grouping for alerts that arrive one by one; unset fields inherit."""

    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None

    @field_validator("group_by")
    @classmethod
    def _all_or_names(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and "..." in v and len(v) > 1:
            raise ValueError("group_by '...' (every label) cannot be combined with label names")
        return v

    @field_validator("group_interval")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError("group_interval must be longer than 0s")
        return v

    def over(self, parent: Grouping | None) -> Grouping:
        """This grouping with unset fields taken from ``parent``."""
        if parent is None:
            return self
        mine = self.model_dump(exclude_none=True)
        return parent.model_copy(update=mine)

    def timers(self) -> GroupTimers:
        d = GroupTimers()
        return GroupTimers(
            group_wait=_or(self.group_wait, d.group_wait),
            group_interval=_or(self.group_interval, d.group_interval),
            repeat_interval=_or(self.repeat_interval, d.repeat_interval),
            # Always on: a resolved member must reach its incident, or the incident never closes.
            send_resolved=True,
        )


class MatcherSpec(_Strict):
    """Alertmanager API v2's matcher object, for clients that send that shape."""

    name: str
    value: str
    isRegex: bool = False  # noqa: N815  (Alertmanager's spelling)
    isEqual: bool = True  # noqa: N815

    def to_matcher(self) -> Matcher:
        ops = {(False, True): MatchOp.EQ, (False, False): MatchOp.NE}
        ops.update({(True, True): MatchOp.RE, (True, False): MatchOp.NRE})
        return Matcher(self.name, ops[(self.isRegex, self.isEqual)], self.value)


def _matchers(raw: list[str | MatcherSpec]) -> tuple[Matcher, ...]:
    return tuple(parse_matcher(m) if isinstance(m, str) else m.to_matcher() for m in raw)


class _HasMatchers(_Strict):
    @staticmethod
    def _validate(raw: list[str | MatcherSpec]) -> list[str | MatcherSpec]:
        _matchers(raw)  # a bad regex or operator fails when the object is saved
        return raw


class Silence(_Identified):
    matchers: list[str | MatcherSpec] = Field(min_length=1)
    starts_at: datetime
    ends_at: datetime
    created_by: str = Field(min_length=1)
    comment: str = ""

    @field_validator("matchers")
    @classmethod
    def _parse(cls, v: list[str | MatcherSpec]) -> list[str | MatcherSpec]:
        return _HasMatchers._validate(v)

    @model_validator(mode="after")
    def _pure(self) -> Silence:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at and ends_at need a UTC offset (e.g. 2026-05-01T02:00:00Z)")
        self.to_silence(self.starts_at)  # the pure model's own checks (matches-everything, order)
        return self

    def to_silence(self, updated_at: datetime) -> PureSilence:
        return PureSilence(
            id=self.id,
            matchers=_matchers(self.matchers),
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            created_by=self.created_by,
            comment=self.comment,
            updated_at=updated_at,
        )


class Maintenance(_Identified):
    """One-off (starts_at/ends_at), weekly (weekdays + start_time/end_time), cron + duration, or
    rrule + starts_at + duration (an RFC 5545 RRULE, read as schedules read theirs)."""

    title: str = ""
    services: list[str] = Field(min_length=1)
    timezone: str = "UTC"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekdays: list[str] = Field(default_factory=list)
    start_time: time | None = None
    end_time: time | None = None
    cron: str | None = None
    duration: Duration | None = None
    rrule: str | None = None
    active_from: datetime | None = None
    active_until: datetime | None = None

    @field_validator("weekdays")
    @classmethod
    def _days(cls, v: list[str]) -> list[str]:
        bad = [d for d in v if d.lower()[:3] not in _DAYS]
        if bad:
            raise ValueError(f"unknown weekday(s) {bad}; use mon, tue, wed, thu, fri, sat, sun")
        return v

    @model_validator(mode="after")
    def _pure(self) -> Maintenance:
        self.to_window()
        return self

    @property
    def kind(self) -> WindowKind:
        if self.rrule:
            return WindowKind.RRULE
        if self.cron:
            return WindowKind.CRON
        return WindowKind.WEEKLY if self.weekdays else WindowKind.ONE_OFF

    def to_window(self) -> MaintenanceWindow:
        return MaintenanceWindow(
            id=self.id,
            title=self.title or self.id,
            service_ids=frozenset(self.services),
            kind=self.kind,
            timezone=self.timezone,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            weekdays=frozenset(_DAYS[d.lower()[:3]] for d in self.weekdays),
            start_time=self.start_time,
            end_time=self.end_time,
            cron=self.cron,
            duration=_td(self.duration),
            rrule=self.rrule,
            active_from=self.active_from,
            active_until=self.active_until,
        )


class InhibitRule(_Identified):
    source_matchers: list[str | MatcherSpec] = Field(min_length=1)
    target_matchers: list[str | MatcherSpec] = Field(min_length=1)
    equal: list[str] = Field(default_factory=list)

    @field_validator("source_matchers", "target_matchers")
    @classmethod
    def _parse(cls, v: list[str | MatcherSpec]) -> list[str | MatcherSpec]:
        return _HasMatchers._validate(v)

    def to_rule(self) -> PureInhibitRule:
        return PureInhibitRule(
            _matchers(self.source_matchers), _matchers(self.target_matchers), tuple(self.equal), self.id
        )


class Heartbeat(_Identified):
    """A dead-man's switch: expects a ping every ``period``; down after ``period + grace``."""

    name: str = ""
    service: str
    period: Duration = 86400.0
    grace: Duration = 3600.0
    severity: Severity = Severity.CRITICAL

    @field_validator("period")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("period must be longer than 0s")
        return v


def definition(obj: BaseModel) -> dict[str, Any]:
    return obj.model_dump(mode="json")
