"""A calendar's events as the rest of koban sees them (pure), whichever way they were read."""

from __future__ import annotations

from dataclasses import dataclass


class FeedError(ValueError):
    """The body is not a calendar we can read; the message is shown on the calendar's status."""


@dataclass(frozen=True, slots=True)
class CalEvent:
    uid: str
    recurrence_id: str  # "" for a single event; the occurrence's original start (UTC) otherwise
    start: float
    end: float
    summary: str = ""
    location: str = ""
    attendees: tuple[str, ...] = ()  # lower-case email addresses
    organizer: str = ""
    all_day: bool = False
    cancelled: bool = False
