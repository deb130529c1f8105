"""Availability: uptime per monitor and per service from the stored probe history, maintenance
excluded and shown, an error budget against a target, and the downtime incidents. Pure.

The unit is the minute rollup (a monitor's final probe results in one minute, summed over its
locations). A measured minute is one with results, outside maintenance; it is down for the
fraction of its results that failed (2 probes, 1 failed: 30 s down). Uptime is 1 - down seconds /
measured seconds, so a monitor added mid-period is judged on the minutes it existed, and its
coverage says how many that was. A service's minute is as down as its most-down monitor measured in
that minute. The error budget is ``(1 - target)`` of the measured seconds. Whole days may come
summed (``reports/summaries.py``): their totals add to the minutes' by the same rules.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from koban.reports.maintenance import MINUTE, by_label, covered_seconds, covers
from koban.reports.records import AvailabilityInput, DayTotals, IncidentRecord, Interval, Period, ProbeMinute
from koban.reports.stats import iso
from koban.reports.wake import of

NO_DAYS = DayTotals(0, 0.0)


def _figures(measured: int, down: float, target: float, period: Period) -> dict[str, Any]:
    coverage, down_r, uptime, budget, remaining, spent = _numbers(
        measured, down, target, period.until - period.since
    )
    return {
        "measured_minutes": measured,
        "coverage": coverage,
        "down_seconds": down_r,
        "uptime": uptime,
        "error_budget": {
            "target": target,
            "budget_seconds": budget,
            "spent_seconds": down_r,
            "remaining_seconds": remaining,
            "spent_fraction": spent,
        },
    }


@functools.lru_cache(maxsize=1 << 14)  # many monitors share their figures (all up, every minute)
def _numbers(measured: int, down: float, target: float, span: float) -> tuple[Any, ...]:
    seconds = measured * MINUTE
    budget = (1 - target) * seconds
    return (
        round(seconds / span, 6),
        round(down, 3),
        None if not measured else round(1 - down / seconds, 6),
        round(budget, 3),
        round(budget - down, 3),
        None if budget == 0 else round(down / budget, 4),
    )


def _down(m: ProbeMinute) -> float:
    return m.failures / m.count if m.count else 0.0


def downtime(inc: IncidentRecord, period: Period, as_of: float, maint: Sequence[Interval]) -> dict[str, Any]:
    """One monitor incident: from its first failed probe to its resolution (or ``as_of``)."""
    start = of(inc, as_of).first_failure.at
    end = inc.resolved_at if inc.resolved_at is not None and inc.resolved_at <= as_of else None
    stop = as_of if end is None else end
    lo, hi = max(start, period.since), min(stop, period.until)
    return {
        "incident": inc.id,
        "monitor": inc.key.removeprefix("monitor:"),
        "started": iso(start),
        "ended": iso(end),
        "open": end is None,
        "duration_seconds": round(stop - start, 3),
        "in_period_seconds": round(max(0.0, hi - lo), 3),
        "in_maintenance_seconds": round(covered_seconds(maint, lo, hi), 3) if hi > lo else 0.0,
    }


def availability(
    data: AvailabilityInput, period: Period, as_of: float, target: float = 0.999
) -> dict[str, Any]:
    if not 0 < target < 1:
        raise ValueError("target must be between 0 and 1, e.g. 0.999")
    by_monitor: dict[str, list[ProbeMinute]] = {}
    for m in data.minutes:
        if period.holds(m.start) and m.count > 0:
            by_monitor.setdefault(m.monitor, []).append(m)
    services: dict[str, list[str]] = {}
    monitors_out = []
    worst: dict[str, dict[float, float]] = {}  # service -> minute -> down fraction of its worst monitor
    incidents_of: dict[str, list[IncidentRecord]] = {}
    for inc in sorted(data.incidents, key=lambda i: (i.created_at, i.id)):
        incidents_of.setdefault(inc.key, []).append(inc)
    for mon in sorted(data.monitors, key=lambda m: m.id):
        services.setdefault(mon.service, []).append(mon.id)
        days = data.monitor_days.get(mon.id, NO_DAYS)
        seen, last = days.first, days.last
        down, measured_n, in_maintenance = days.down_seconds, days.measured_minutes, 0
        minutes = by_monitor.get(mon.id)
        maint = data.maintenance.get(mon.service, ())
        if minutes:  # the ragged ends, maintenance days, days not summed yet (none, over whole days)
            minutes.sort(key=lambda m: m.start)
            measured = [m for m in minutes if not covers(maint, m.start)]
            per_minute = worst.setdefault(mon.service, {})
            for m in measured:
                per_minute[m.start] = max(per_minute.get(m.start, 0.0), _down(m))
            seen = minutes[0].start if seen is None else min(seen, minutes[0].start)
            last = minutes[-1].start if last is None else max(last, minutes[-1].start)
            down = sum(_down(m) for m in measured) * MINUTE + down
            measured_n += len(measured)
            in_maintenance = len(minutes) - len(measured)
        mine = incidents_of.get(f"monitor:{mon.id}")
        monitors_out.append(
            {
                "monitor": mon.id,
                "name": mon.name,
                "service": mon.service,
                "first_measured": iso(seen),
                "last_measured": iso(last),
                "maintenance_minutes": in_maintenance,
                **_figures(measured_n, down, target, period),
                "downtime_incidents": [downtime(i, period, as_of, maint) for i in mine] if mine else [],
            }
        )
    services_out = []
    for service in sorted(services):
        per_minute = worst.get(service, {})
        maint = data.maintenance.get(service, ())
        days = data.service_days.get(service, NO_DAYS)
        down = sum(per_minute.values()) * MINUTE + days.down_seconds
        services_out.append(
            {
                "service": service,
                "monitors": services[service],
                **_figures(len(per_minute) + days.measured_minutes, down, target, period),
                "maintenance": _shown(maint),
            }
        )
    return {"target": target, "services": services_out, "monitors": monitors_out}


def _shown(maint: Sequence[Interval]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    grouped: Mapping[str, list[Interval]] = by_label(maint)
    for label in sorted(grouped):
        spans = grouped[label]
        out.append(
            {
                "window": label,
                "seconds": round(sum(i.end - i.start for i in spans), 3),
                "intervals": [{"start": iso(i.start), "end": iso(i.end)} for i in spans],
            }
        )
    return out
