"""Time to wake over many incidents: each incident's four moments (``domain.time_to_wake``), and
p50/p90/max of each, counted from the first failed observation. Pure.

Stages: ``first_page`` (first failure → first page accepted by a channel), ``first_reached``
(→ a person answered, pressed, clicked or acted), ``acknowledged`` (→ first acknowledgement), and
``lead`` (first failure → the incident's creation): how long the outage ran before the alert, which
a monitor's history or a source's ``startsAt`` shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from koban.domain.time_to_wake import Moment, TimeToWake, time_to_wake
from koban.reports.records import IncidentRecord, Period
from koban.reports.stats import iso, summary

STAGES = ("lead", "first_page", "first_reached", "acknowledged")


def of(inc: IncidentRecord, as_of: float) -> TimeToWake:
    """One incident's moments, from the events known at ``as_of``."""
    if inc.facts is not None:
        return inc.facts.wake
    timeline = [e for e in inc.timeline if float(e["at"]) <= as_of]
    deliveries = [d for d in inc.deliveries if d.get("sent_at") is None or float(d["sent_at"]) <= as_of]
    return time_to_wake(inc.created_at, timeline, inc.alerts, deliveries)


# One incident's moments as plain tuples, made from its events (``moments``) or straight from its
# settled facts (``load.wake_moments``): (created_at, id, service, severity, first failure's at and
# how, then the first page, first reached and acknowledgement as (at, after, how, who) or None).
Stage = tuple[float, float, str, str | None] | None
Moments = tuple[float, int, str, str, float, str, Stage, Stage, Stage]


def _stage(m: Moment | None) -> Stage:
    return None if m is None else (m.at, m.after, m.how, m.who)


def moments(inc: IncidentRecord, w: TimeToWake) -> Moments:
    first = w.first_failure
    stages = (_stage(w.first_page), _stage(w.first_reached), _stage(w.acknowledged))
    return (inc.created_at, inc.id, inc.service, inc.severity, first.at, first.how, *stages)


def wake(incidents: Sequence[IncidentRecord], period: Period, as_of: float) -> dict[str, Any]:
    return wake_of([moments(i, of(i, as_of)) for i in incidents if period.holds(i.created_at)])


# Each stage's durations over the period's incidents, and how many began before their alert: what
# the totals are made of (``wake_load.values`` reads a settled incident's from SQL, as ``values_of``).
Values = dict[str, list[float]]


def values_of(found: Sequence[Moments]) -> Values:
    values: Values = {s: [] for s in STAGES}
    for created, _, _, _, first_at, _, page, reached, ack in found:
        values["lead"].append(created - first_at)
        for name, m in (("first_page", page), ("first_reached", reached), ("acknowledged", ack)):
            if m is not None:
                values[name].append(m[1])
    return values


def total_of(values: Values) -> dict[str, Any]:
    """The totals, whatever order the values come in (``summary`` sorts them)."""
    return {
        "incidents": len(values["lead"]),
        "began_before_alert": sum(1 for lead in values["lead"] if lead > 0),
        **{name: summary(values[name]) for name in STAGES},
    }


def rows_of(found: Sequence[Moments]) -> list[dict[str, Any]]:
    """One row per incident, in creation order."""
    rows = []
    for created, ident, service, severity, first_at, first_how, page, reached, ack in sorted(
        found, key=lambda m: (m[0], m[1])
    ):
        lead = created - first_at
        rows.append(
            {
                "incident": ident,
                "service": service,
                "severity": severity,
                "first_failure": iso(first_at),
                "first_failure_how": first_how,
                "began_before_alert": lead > 0,
                "lead_seconds": round(lead, 3),
                "first_page_seconds": None if page is None else round(page[1], 3),
                "first_reached_seconds": None if reached is None else round(reached[1], 3),
                "acknowledged_seconds": None if ack is None else round(ack[1], 3),
                "first_page_channel": page[2] if page else None,
                "first_reached_how": reached[2] if reached else None,
                "first_reached_who": reached[3] if reached else None,
            }
        )
    return rows


def wake_of(found: Sequence[Moments]) -> dict[str, Any]:
    """The report from each incident's moments (all of them created in the period), every row."""
    return {"total": total_of(values_of(found)), "incidents": rows_of(found)}
