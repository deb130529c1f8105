"""Schedules in the config file and the REST API: layers, restrictions, member changes, overrides.

The rules they follow (handoffs at wall-clock times, DST, higher layers win) are in docs/schedules.md;
``schedules/build.py`` turns these into the pure model ``schedules/resolve.py`` resolves.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from koban.config.base import Identified, Strict
from koban.config.durations import Duration
from koban.core.recurrence import check_rrule

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _wall(v: Any) -> Any:
    """``9:30`` as well as ``09:30``; a time of day has no zone (the schedule's applies)."""
    if isinstance(v, str) and len(v) >= 4 and v[1] == ":":
        v = "0" + v
    return v


def _naive(v: time) -> time:
    if v.tzinfo is not None:
        raise ValueError("a wall-clock time (HH:MM) in the schedule's zone, without an offset")
    return v


WallTime = Annotated[time, BeforeValidator(_wall), AfterValidator(_naive)]


def _aware(v: datetime) -> datetime:
    if v.tzinfo is None:
        raise ValueError("give the offset (2026-03-08T02:00:00+01:00, or Z for UTC)")
    return v


class Restriction(Strict):
    """The layer is on during these windows only: ``from``-``to`` local time on ``days`` (the day a
    window starts); ``to`` not after ``from`` runs past midnight."""

    # ``from`` is a Python keyword: the field is ``from_``, written and shown as ``from``.
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    from_: WallTime = Field(alias="from")
    to: WallTime


class MemberChange(Strict):
    at: datetime
    members: list[str] = Field(min_length=1)

    _at = field_validator("at")(_aware)


class Layer(Strict):
    name: str = ""
    members: list[str] = Field(min_length=1)
    rotation: Literal["hourly", "daily", "weekly", "monthly"] = "weekly"
    every: int = Field(1, ge=1, le=1000)
    rrule: str | None = None  # RFC 5545 RRULE body, e.g. FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0
    start: date  # the first handoff's date: the rotation's anchor
    handoff: WallTime = time(0, 0)
    restrictions: list[Restriction] = Field(default_factory=list)
    changes: list[MemberChange] = Field(default_factory=list)

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, v: str | None) -> str | None:
        return None if v is None else check_rrule(v)


class Override(Strict):
    id: str = Field(default="", max_length=128)
    start: datetime
    end: datetime
    person: str
    kind: Literal["add", "remove", "replace"] = "replace"
    replaces: str | None = None  # replace: whom; unset: whoever is on call
    note: str = Field(default="", max_length=500)
    by: str | None = None  # who made it (set by the API)

    _times = field_validator("start", "end")(_aware)

    @model_validator(mode="after")
    def _order(self) -> Override:
        if self.end <= self.start:
            raise ValueError("an override ends after it starts")
        if self.replaces is not None and self.kind != "replace":
            raise ValueError("replaces goes with kind: replace")
        return self


class UserGroup(Strict):
    """A Slack user group (``@oncall-web``) whose members koban sets to who is on call at each
    handoff, through a bot-token Slack ``channel`` of the config (docs/schedules.md)."""

    channel: str
    id: str = Field(pattern=r"^S[A-Z0-9]+$")  # the user group's ID, as Slack shows it (S0614TZR7)


class Notices(Strict):
    """What koban tells people about this schedule (docs/schedules.md, "Notices")."""

    channel: str | None = None  # the team's channel: coverage-gap warnings go there
    gap_warning: Duration = 3 * 86400.0  # warn this long before an uncovered gap starts
    handoff: Duration | None = 900.0  # tell the incoming person this long before; None: never
    handoff_summary: bool = False  # with the open incidents of the team's services
    usergroup: UserGroup | None = None  # keep a Slack user group naming who is on call
    language: str = "en"  # of the gap warnings in ``channel`` (ja or en; a person's own language wins)


class Schedule(Identified):
    team: str | None = None
    timezone: str = "UTC"
    layers: list[Layer] = Field(default_factory=list)  # lowest first: the last listed wins
    overrides: list[Override] = Field(default_factory=list)
    notices: Notices | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}: an IANA name like Europe/Paris") from None
        return v


class FixedShift(Strict):
    start: datetime
    end: datetime
    people: list[str] = Field(default_factory=list)  # none: a gap, shown as such

    _times = field_validator("start", "end")(_aware)


class Temporary(Strict):
    """A temporary schedule: for [start, end) these fixed shifts replace the layers (an instant
    in the period that no shift covers is a gap); overrides still apply on top. Made through the
    API and kept in a table of its own, so ``koban config apply`` leaves it alone."""

    id: str = Field(default="", max_length=128)
    start: datetime
    end: datetime
    shifts: list[FixedShift] = Field(default_factory=list)
    note: str = Field(default="", max_length=500)
    by: str | None = None

    _times = field_validator("start", "end")(_aware)

    @model_validator(mode="after")
    def _inside(self) -> Temporary:
        if self.end <= self.start:
            raise ValueError("a temporary schedule ends after it starts")
        for s in self.shifts:
            if s.end <= s.start or s.start < self.start or s.end > self.end:
                raise ValueError("each shift ends after it starts, within the temporary schedule's period")
        return self
