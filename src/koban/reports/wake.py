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

from koban.domain.time_to_wake import TimeToWake, time_to_wake
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


def stages(inc: IncidentRecord, w: TimeToWake) -> dict[str, float | None]:
    return {
        "lead": inc.created_at - w.first_failure.at,
        "first_page": None if w.first_page is None else w.first_page.after,
        "first_reached": None if w.first_reached is None else w.first_reached.after,
        "acknowledged": None if w.acknowledged is None else w.acknowledged.after,
    }


def wake(incidents: Sequence[IncidentRecord], period: Period, as_of: float) -> dict[str, Any]:
    rows = []
    values: dict[str, list[float]] = {s: [] for s in STAGES}
    for inc in sorted(incidents, key=lambda i: (i.created_at, i.id)):
        if not period.holds(inc.created_at):
            continue
        w = of(inc, as_of)
        st = stages(inc, w)
        for name, v in st.items():
            if v is not None:
                values[name].append(v)
        rows.append(
            {
                "incident": inc.id,
                "service": inc.service,
                "severity": inc.severity,
                "first_failure": iso(w.first_failure.at),
                "first_failure_how": w.first_failure.how,
                "began_before_alert": st["lead"] is not None and st["lead"] > 0,
                **{f"{name}_seconds": None if v is None else round(v, 3) for name, v in st.items()},
                "first_page_channel": w.first_page.how if w.first_page else None,
                "first_reached_how": w.first_reached.how if w.first_reached else None,
                "first_reached_who": w.first_reached.who if w.first_reached else None,
            }
        )
    return {
        "total": {
            "incidents": len(rows),
            "began_before_alert": sum(1 for r in rows if r["began_before_alert"]),
            **{name: summary(values[name]) for name in STAGES},
        },
        "incidents": rows,
    }
