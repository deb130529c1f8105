"""Scheduled reports in the configuration file (docs/reports.md, "Scheduled delivery").

report_schedules:
  - id: weekly-ops
    cron: "0 9 * * MON"             # when to send, in ``timezone`` (routing/cron.py)
    timezone: Asia/Tokyo
    period: week                    # week | month: the last full one before the send, in ``timezone``
    reports: [response, wake, interruptions, on-call, availability]
    language: ja                    # en | ja
    services: [shop]                # optional: only these services (default: all)
    target: 0.999                   # availability's error budget
    send_to:
      - channel: ops-slack          # a Slack or webhook channel posts where it is configured
      - channel: mail
        address: sre@example.com    # an email channel needs an address...
      - channel: mail
        person: alice               # ...or a person whose contacts hold one
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from koban.config.base import Identified, Strict
from koban.routing.cron import parse_cron

ReportKind = Literal["response", "wake", "interruptions", "on-call", "availability"]
REPORT_KINDS: tuple[ReportKind, ...] = ("response", "wake", "interruptions", "on-call", "availability")
# Reports are read, not interruptions: never a phone call or an SMS.
REPORT_CHANNEL_TYPES = ("slack", "email", "webhook", "console")


class ReportTarget(Strict):
    channel: str
    person: str | None = None
    address: str | None = None

    @model_validator(mode="after")
    def _one_recipient(self) -> ReportTarget:
        if self.person and self.address:
            raise ValueError("give a person or an address, not both")
        return self


class ReportSchedule(Identified):
    cron: str
    timezone: str = "UTC"
    period: Literal["week", "month"] = "week"
    reports: list[ReportKind] = Field(default_factory=lambda: list(REPORT_KINDS), min_length=1)
    language: Literal["en", "ja"] = "en"
    services: list[str] | None = None
    target: float = Field(0.999, gt=0, lt=1)
    send_to: list[ReportTarget] = Field(min_length=1)
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        parse_cron(v)
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v
