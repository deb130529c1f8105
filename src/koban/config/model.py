"""The configuration file's objects. The REST API accepts the same shapes (one model, two doors)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from koban.config.base import Identified, Strict
from koban.config.durations import Duration
from koban.config.model_calendars import Calendar
from koban.config.model_integrations import IntegrationLimits
from koban.config.model_logs import Digest, LogCluster, LogRule
from koban.config.model_monitors import Monitor
from koban.config.model_reports import ReportSchedule
from koban.config.model_routing import Grouping, Heartbeat, InhibitRule, Maintenance, Silence
from koban.config.model_schedules import Schedule
from koban.config.model_sso import Sso
from koban.config.model_status import StatusPage
from koban.config.model_teams import Team
from koban.domain.alerts import Severity


class Person(Identified):
    timezone: str = "UTC"
    language: str = "en-US"
    # Contact addresses by kind: phone (E.164), email, slack (user id), webhook (URL)...
    contacts: dict[str, str] = Field(default_factory=dict)
    # Channel ids used when a policy targets this person without saying how.
    notify: list[str] = Field(default_factory=list)


class Rotation(Identified):
    team: str | None = None
    members: list[str] = Field(min_length=1)
    # Hand-offs: every ``shift`` from ``start`` the next member is on call. No shift: the first member.
    shift: Duration | None = None
    start: datetime | None = None

    @model_validator(mode="after")
    def _shift_needs_start(self) -> Rotation:
        if self.shift is not None and self.start is None:
            raise ValueError("a rotation with a shift needs a start (ISO 8601 time with offset)")
        if self.shift is not None and self.shift <= 0:
            raise ValueError("shift must be longer than 0s")
        return self


class Channel(Identified):
    """A configured outbound channel instance; ``type`` picks the implementation, the rest is its settings."""

    model_config = ConfigDict(extra="allow", frozen=True)
    type: str

    def settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Target(Strict):
    person: str | None = None
    rotation: str | None = None
    schedule: str | None = None  # whoever the schedule has on call when the step fires
    channel: str | None = None
    # For person/rotation/schedule targets: which channel(s) to reach the person through.
    via: list[str] = Field(default_factory=list)
    # current: who is on call now; round_robin: the next member each loop; all: everyone at once;
    # in_turn: one member after another (each gets the step's timeout) until someone acknowledges.
    mode: Literal["current", "round_robin", "all", "in_turn"] = "current"

    @field_validator("via", mode="before")
    @classmethod
    def _via_list(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _exactly_one(self) -> Target:
        if sum(x is not None for x in (self.person, self.rotation, self.schedule, self.channel)) != 1:
            raise ValueError("a target names exactly one of person, rotation, schedule or channel")
        if self.schedule is not None and self.mode != "current":
            raise ValueError("a schedule target pages whoever is on call: mode does not apply")
        return self


class Step(Strict):
    notify: list[Target] = Field(min_length=1)
    escalate_after: Duration = 300.0
    label: str = ""


class Policy(Identified):
    team: str | None = None
    steps: list[Step] = Field(min_length=1)
    # Extra passes over all steps after the first, and a cap on the total time spent escalating.
    repeat: int = Field(0, ge=0, le=100)
    repeat_for: Duration | None = None


class RouteMatch(Strict):
    severity: list[Severity] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("severity", mode="before")
    @classmethod
    def _sev_list(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class Route(Strict):
    match: RouteMatch = Field(default_factory=RouteMatch)
    policy: str | None = None
    # Record the alert and open the incident, but page no one.
    suppress: bool = False
    # Alertmanager-style grouping for alerts of this route (unset fields: the service's grouping).
    grouping: Grouping | None = None


class Integration(Identified):
    type: str
    # sha256 hex of accepted keys (``koban integration new-key`` prints a key and its hash).
    key_hashes: list[str] = Field(default_factory=list)
    settings: dict[str, Any] = Field(default_factory=dict)
    limits: IntegrationLimits | None = None


class Service(Identified):
    team: str | None = None  # owns the service's incidents and monitors too
    policy: str | None = None
    routes: list[Route] = Field(default_factory=list)
    integrations: list[Integration] = Field(default_factory=list)
    # Page again when a new alert arrives for an acknowledged incident.
    retrigger_acknowledged: bool = False
    # Alertmanager-style grouping for single alerts (config/model_routing.py); None: no grouping.
    grouping: Grouping | None = None


class ConfigFile(Strict):
    teams: list[Team] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    rotations: list[Rotation] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    calendars: list[Calendar] = Field(default_factory=list)  # imported calendars (docs/calendars.md)
    channels: list[Channel] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    monitors: list[Monitor] = Field(default_factory=list)
    silences: list[Silence] = Field(default_factory=list)
    maintenance: list[Maintenance] = Field(default_factory=list)
    inhibit_rules: list[InhibitRule] = Field(default_factory=list)
    heartbeats: list[Heartbeat] = Field(default_factory=list)
    log_clusters: list[LogCluster] = Field(default_factory=list)
    digests: list[Digest] = Field(default_factory=list)
    log_rules: list[LogRule] = Field(default_factory=list)
    # Weekly or monthly reports posted to Slack and email (config/model_reports.py)
    report_schedules: list[ReportSchedule] = Field(default_factory=list)
    # Public status pages: only what they list is public (config/model_status.py)
    status_pages: list[StatusPage] = Field(default_factory=list)
    sso: Sso | None = None  # single sign-on (config/model_sso.py)
