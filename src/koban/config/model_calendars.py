"""Imported calendars (docs/calendars.md): an iCal URL or a CalDAV collection, fetched every ``every``;
its events can fill a schedule (who is on call) and open tasks (seed 004's calendar-driven work)."""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from koban.config.base import Identified, Strict
from koban.config.durations import Duration


def _regex(v: str | None) -> str | None:
    if v is not None:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"not a regular expression: {e}") from None
    return v


class CalDav(Strict):
    url: str  # the server (or the collection itself)
    username: str = ""
    password: str = ""
    calendar: str | None = None  # a calendar's display name; unset: the URL is the collection


class TaskMatch(Strict):
    """All that are set must hold: ``title`` and ``location`` are regexes searched in the event's
    SUMMARY and LOCATION; ``attendee`` and ``organizer`` are email addresses (case-insensitive)."""

    title: str | None = None
    location: str | None = None
    attendee: str | None = None
    organizer: str | None = None

    _re = field_validator("title", "location")(_regex)


class TaskRule(Strict):
    """Events that match open a task ``lead`` before they start, on ``service``, paged through
    ``policy``; nobody has started it ``grace`` after the event's start: a reminder, then escalation."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    match: TaskMatch = Field(default_factory=TaskMatch)
    service: str
    policy: str
    lead: Duration = 0.0
    grace: Duration = 900.0
    severity: Literal["critical", "error", "warning", "info"] = "warning"


class Calendar(Identified):
    url: str | None = None  # an iCal address (Google's secret address, Outlook, iCloud)
    caldav: CalDav | None = None
    every: Duration = 300.0  # fetch period
    timezone: str = "UTC"  # for floating times of feeds that name no zone
    # Who is on call: events of this calendar become shifts of ``schedule``, naming the person in
    # their title (person id or name) or as their only attendee matching a person's email.
    schedule: str | None = None
    kind: Literal["replace", "add"] = "replace"  # replace: the calendar wins over the layers
    tasks: list[TaskRule] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}: an IANA name like Asia/Tokyo") from None
        return v

    @field_validator("every")
    @classmethod
    def _every(cls, v: float) -> float:
        if v < 30:
            raise ValueError("fetch at most every 30s")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> Calendar:
        if (self.url is None) == (self.caldav is None):
            raise ValueError("give exactly one of url or caldav")
        return self
