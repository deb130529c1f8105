"""A schedule's week drawn as SVG rows on one time axis: the final schedule (gaps in red), each layer,
the overrides, and a time-zone bar per member (their night shaded, where they are). Pure: spans
in, rectangles out; the template writes them (no script, no inline style: the CSP holds).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

WIDTH = 960.0
LABEL = 150.0  # the row names' column
ROW = 26.0
TOP = 22.0  # the day labels
GAP_FILL = "#b3261e"
NIGHT = (22, 7)  # a member's local night, shaded: hours from and to
PALETTE = ("#1f4e9c", "#2d6a2d", "#7a4eb0", "#8a5a00", "#00687a", "#a1426b", "#4d4d4d", "#5b5bd6")


@dataclass(frozen=True, slots=True)
class Box:
    x: float
    w: float
    fill: str
    text: str  # drawn when it fits; always the box's <title>
    title: str
    gap: bool = False


@dataclass(slots=True)
class Lane:
    name: str
    boxes: list[Box] = field(default_factory=list)
    note: str = ""  # e.g. a member's zone and local time


@dataclass(frozen=True, slots=True)
class Axis:
    start: float
    end: float

    def x(self, t: float) -> float:
        span = max(self.end - self.start, 1.0)
        return LABEL + (min(max(t, self.start), self.end) - self.start) / span * (WIDTH - LABEL)


def colour_of(person: str) -> str:
    """A person keeps their colour on every row and every week."""
    return PALETTE[zlib.crc32(person.encode()) % len(PALETTE)]


def fits(w: float, text: str) -> bool:
    return w >= 7.0 * len(text) + 6


def lane(
    name: str,
    axis: Axis,
    spans: Iterable[tuple[float, float, Sequence[str]]],
    fmt: Callable[[float], str],
    gap_text: str = "",
) -> Lane:
    """A row of spans (start, end, people); no people: a gap, drawn red when ``gap_text`` is set."""
    out = Lane(name)
    for a, b, people in spans:
        if b <= axis.start or a >= axis.end:
            continue
        x0, x1 = axis.x(a), axis.x(b)
        who = ", ".join(people)
        if not people and not gap_text:
            continue
        text = who or gap_text
        fill = colour_of(people[0]) if people else GAP_FILL
        out.boxes.append(Box(x0, max(x1 - x0, 1.0), fill, text, f"{text}: {fmt(a)} – {fmt(b)}", not people))
    return out


def days(axis: Axis, tz: ZoneInfo, fmt: Callable[[datetime], str]) -> list[tuple[float, str]]:
    """Each local midnight within the axis: (x, label)."""
    out = []
    day = datetime.fromtimestamp(axis.start, tz).replace(hour=0, minute=0, second=0, microsecond=0)
    while day.timestamp() < axis.end:
        if day.timestamp() >= axis.start:
            out.append((axis.x(day.timestamp()), fmt(day)))
        day = (day + timedelta(days=1, hours=2)).replace(hour=0)  # a DST day is 23 or 25 hours
    return out


def nights(axis: Axis, tz: ZoneInfo) -> list[tuple[float, float]]:
    """The member's local nights as (start, end) instants within the axis."""
    out = []
    day = datetime.fromtimestamp(axis.start, tz).replace(hour=0, minute=0, second=0, microsecond=0)
    day -= timedelta(days=1)
    while day.timestamp() < axis.end:
        a = day.replace(hour=NIGHT[0]).timestamp()
        b = (day + timedelta(days=1, hours=2)).replace(hour=NIGHT[1]).timestamp()
        if b > axis.start and a < axis.end:
            out.append((max(a, axis.start), min(b, axis.end)))
        day = (day + timedelta(days=1, hours=2)).replace(hour=0)
    return out


def height(lanes: int) -> float:
    return TOP + lanes * ROW + 4
