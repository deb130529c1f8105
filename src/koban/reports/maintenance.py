"""Maintenance windows as intervals of a period, to the minute. Pure.

A minute of probe history is "in maintenance" when one of its service's windows is active at the
minute's start, by the same rule that mutes alerts (``routing.maintenance.is_active``), so a report
excludes exactly the minutes paging was silenced for. One-off windows are clipped directly; weekly
windows are walked minute by minute (a month is 43,200 steps per window); cron and RRULE windows
go from one start to the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from koban.core.recurrence import occurrences
from koban.reports.records import Interval
from koban.routing.cron import fires_after
from koban.routing.maintenance import MaintenanceWindow, WindowKind, is_active, rrule_start

MINUTE = 60.0


def _dt(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def window_intervals(w: MaintenanceWindow, since: float, until: float) -> list[Interval]:
    lo = max(since, w.active_from.timestamp()) if w.active_from else since
    hi = min(until, w.active_until.timestamp()) if w.active_until else until
    if lo >= hi:
        return []
    if w.kind is WindowKind.ONE_OFF:
        assert w.starts_at and w.ends_at
        start, end = max(lo, w.starts_at.timestamp()), min(hi, w.ends_at.timestamp())
        return [Interval(start, end, w.id)] if start < end else []
    out: list[Interval] = []
    minute = lo - lo % MINUTE
    if w.kind is WindowKind.CRON:
        assert w.cron and w.duration
        length = w.duration.total_seconds()
        # A window fired before ``since`` may still run into it: start one length earlier.
        for fired in fires_after(w.cron, _dt(minute - length).astimezone(ZoneInfo(w.timezone))):
            at = fired.timestamp()
            if at >= hi:
                break
            _add(out, max(at, lo), min(at + length, hi), w.id)
        return out
    if w.kind is WindowKind.RRULE:
        assert w.rrule and w.duration
        length = w.duration.total_seconds()
        zone = ZoneInfo(w.timezone)
        after = _dt(minute - length).astimezone(zone).replace(tzinfo=None)
        for at in occurrences(w.rrule, rrule_start(w), zone, after=after):
            if at >= hi:
                break
            _add(out, max(at, lo), min(at + length, hi), w.id)
        return out
    while minute < hi:
        if is_active(w, _dt(minute)):
            _add(out, max(minute, lo), min(minute + MINUTE, hi), w.id)
        minute += MINUTE
    return out


def _add(out: list[Interval], start: float, end: float, label: str) -> None:
    if start >= end:
        return
    if out and start <= out[-1].end:
        last = out[-1]
        out[-1] = Interval(last.start, max(last.end, end), label)
    else:
        out.append(Interval(start, end, label))


def service_maintenance(
    windows: Iterable[MaintenanceWindow], services: Iterable[str], since: float, until: float
) -> dict[str, list[Interval]]:
    """Each service's maintenance intervals in ``[since, until)``, each labelled with its window."""
    windows = list(windows)
    out: dict[str, list[Interval]] = {}
    for s in services:
        found = [i for w in windows if s in w.service_ids for i in window_intervals(w, since, until)]
        if found:
            out[s] = sorted(found, key=lambda i: (i.start, i.label))
    return out


def covers(intervals: Sequence[Interval], at: float) -> bool:
    return any(i.start <= at < i.end for i in intervals)


def covered_seconds(intervals: Sequence[Interval], start: float, end: float) -> float:
    """Seconds of ``[start, end)`` inside any of the intervals (overlaps counted once)."""
    cuts = sorted(
        (max(i.start, start), min(i.end, end)) for i in intervals if i.end > start and i.start < end
    )
    total, reach = 0.0, start
    for a, b in cuts:
        a = max(a, reach)
        if b > a:
            total += b - a
            reach = b
    return total


def by_label(intervals: Sequence[Interval]) -> Mapping[str, list[Interval]]:
    out: dict[str, list[Interval]] = {}
    for i in intervals:
        out.setdefault(i.label, []).append(i)
    return out
