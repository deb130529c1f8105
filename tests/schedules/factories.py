"""Small builders for schedule tests: a cast (alice, bob, carol), instants from readable times."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from koban.schedules.model import Layer, Rotation, Schedule, Window


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()  # type: ignore[misc]


def wall(t: float, tz: str) -> datetime:
    return datetime.fromtimestamp(t, ZoneInfo(tz)).replace(tzinfo=None)


def make_layer(
    name: str = "main",
    members: tuple[str, ...] = ("alice", "bob"),
    unit: str = "weekly",
    every: int = 1,
    start: date = date(2026, 1, 5),
    handoff: time = time(9, 0),
    rrule: str | None = None,
    restrictions: tuple[Window, ...] = (),
) -> Layer:
    return Layer(name, members, Rotation(unit, every, rrule), start, handoff, restrictions)  # type: ignore[arg-type]


def make_schedule(tz: str, *layers: Layer) -> Schedule:
    return Schedule("primary", tz, layers)


def handoffs(slots: list, tz: str) -> list[datetime]:
    """The local times at which the person on call changes."""
    return [wall(b.start, tz) for a, b in zip(slots, slots[1:], strict=False) if a.people != b.people]
