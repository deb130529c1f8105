"""Response: time to acknowledge and time to resolve, overall and by service, team, person,
severity, day, week or month, with the trend against the previous period. Pure.

An incident belongs to the period it was created in. Its clocks start at its creation; time to
acknowledge stops at its first ``acknowledged`` timeline entry (whoever or whatever acknowledged it,
a source included, even before the first page), time to resolve at ``resolved_at``. Events after
``as_of`` are not counted: an incident still open then is counted as open, not in the percentiles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from koban.reports.records import IncidentRecord, Period, PersonInfo
from koban.reports.stats import GRAINS, bucketer, ratio_change, summary

DIMENSIONS = ("service", "team", "person", "severity", *GRAINS)
NOBODY = "(nobody)"  # acknowledged by a source, or not acknowledged at all
NO_TEAM = "(none)"


class Clocks(NamedTuple):
    """One incident's response clocks, as of the report (a tuple: a year holds 100,000 of them)."""

    created_at: float
    service: str
    team: str | None
    severity: str
    acknowledged_at: float | None
    acknowledged_by: str | None
    resolved_at: float | None
    reassigned: bool

    @property
    def to_acknowledge(self) -> float | None:
        return None if self.acknowledged_at is None else self.acknowledged_at - self.created_at

    @property
    def to_resolve(self) -> float | None:
        return None if self.resolved_at is None else self.resolved_at - self.created_at


def clocks(inc: IncidentRecord, as_of: float) -> Clocks:
    """From the incident's raw events (or its settled facts): the reference ``response_load``'s SQL
    must agree with (tests/reports/test_response_sql.py)."""
    resolved = inc.resolved_at if inc.resolved_at is not None and inc.resolved_at <= as_of else None
    head = (inc.created_at, inc.service, inc.team, inc.severity)
    if inc.facts is not None:
        f = inc.facts
        return Clocks(*head, f.acknowledged_at, f.acknowledged_by, resolved, f.reassigned)
    entries = sorted((e for e in inc.timeline if float(e["at"]) <= as_of), key=lambda e: float(e["at"]))
    ack = next((e for e in entries if e.get("kind") == "acknowledged"), None)
    return Clocks(
        *head,
        acknowledged_at=None if ack is None else max(float(ack["at"]), inc.created_at),
        acknowledged_by=None if ack is None else ack.get("actor"),
        resolved_at=resolved,
        reassigned=any(e.get("kind") == "reassigned" for e in entries),
    )


def figures(rows: Sequence[Clocks]) -> dict[str, Any]:
    tta: list[float] = []
    ttr: list[float] = []
    by_source = reassigned = 0
    for c in rows:  # one pass: a year's groups add up to hundreds of thousands of clocks
        if c.acknowledged_at is not None:
            tta.append(c.acknowledged_at - c.created_at)
            by_source += not c.acknowledged_by
        if c.resolved_at is not None:
            ttr.append(c.resolved_at - c.created_at)
        reassigned += bool(c.reassigned)
    return {
        "incidents": len(rows),
        "acknowledged": len(tta),
        "acknowledged_by_source": by_source,
        "unacknowledged": len(rows) - len(tta),
        "resolved": len(ttr),
        "open": len(rows) - len(ttr),
        "reassigned": reassigned,
        "time_to_acknowledge": summary(tta),
        "time_to_resolve": summary(ttr),
    }


def trend(now: Mapping[str, Any], before: Mapping[str, Any] | None) -> dict[str, float | None]:
    """Relative changes against ``before`` (negative is faster, or fewer incidents)."""
    b = before or {}

    def get(f: Mapping[str, Any], clock: str, stat: str) -> float | None:
        v = f.get(clock, {}).get(stat)
        return None if v is None else float(v)

    return {
        "incidents": ratio_change(now["incidents"], b.get("incidents")),
        "time_to_acknowledge_p50": ratio_change(
            get(now, "time_to_acknowledge", "p50"), get(b, "time_to_acknowledge", "p50")
        ),
        "time_to_acknowledge_p90": ratio_change(
            get(now, "time_to_acknowledge", "p90"), get(b, "time_to_acknowledge", "p90")
        ),
        "time_to_resolve_p50": ratio_change(
            get(now, "time_to_resolve", "p50"), get(b, "time_to_resolve", "p50")
        ),
        "time_to_resolve_p90": ratio_change(
            get(now, "time_to_resolve", "p90"), get(b, "time_to_resolve", "p90")
        ),
    }


def key_of(by: str, tz: str) -> Callable[[Clocks], str]:
    if by == "service":
        return lambda c: c.service
    if by == "team":
        return lambda c: c.team or NO_TEAM
    if by == "person":
        return lambda c: c.acknowledged_by or NOBODY
    if by == "severity":
        return lambda c: c.severity
    if by in GRAINS:
        cut = bucketer(by, tz)
        return lambda c: cut(c.created_at)
    raise ValueError(f"unknown grouping {by!r}: use one of {', '.join(DIMENSIONS)}")


def response(
    incidents: Sequence[IncidentRecord],
    period: Period,
    as_of: float,
    by: str | None = None,
    people: Mapping[str, PersonInfo] | None = None,
) -> dict[str, Any]:
    """``incidents`` may hold those of the previous period too: they make the trend."""
    return response_of([clocks(i, as_of) for i in incidents], period, by, people)


def response_of(
    every: Sequence[Clocks],
    period: Period,
    by: str | None = None,
    people: Mapping[str, PersonInfo] | None = None,
) -> dict[str, Any]:
    """The report from each incident's clocks (``reports/response_load.py`` makes them in SQL)."""
    prior = period.previous
    now = [c for c in every if period.holds(c.created_at)]
    before = [c for c in every if prior.holds(c.created_at)]
    total, previous = figures(now), figures(before)
    out: dict[str, Any] = {
        "total": total,
        "previous": previous,
        "trend": trend(total, previous),
    }
    if by:
        key = key_of(by, period.tz)
        current: dict[str, list[Clocks]] = {}
        earlier: dict[str, list[Clocks]] = {}
        for c in every:  # each key made once (a bucket is a zone lookup)
            if period.holds(c.created_at):
                current.setdefault(key(c), []).append(c)
            elif prior.holds(c.created_at):
                earlier.setdefault(key(c), []).append(c)
        mine = {k: figures(v) for k, v in current.items()}  # each group's figures, made once
        if by in GRAINS:  # a day, week or month is compared with the one before it
            keys = sorted(current.keys() | earlier.keys())
            before_of = {k: keys[i - 1] for i, k in enumerate(keys) if i > 0}

            def whole(p: str) -> dict[str, Any]:  # a bucket may straddle the period's start
                return mine[p] if p not in earlier else figures([*earlier[p], *current.get(p, ())])

            base = {k: whole(p) if (p := before_of.get(k)) else None for k in current}
        else:  # a service, team, person or severity with itself in the previous period
            base = {k: figures(earlier[k]) if k in earlier else None for k in current}
        groups = []
        for k in sorted(current):
            f = mine[k]
            row: dict[str, Any] = {"key": k, **f, "trend": trend(f, base[k])}
            if by == "person" and k != NOBODY:
                who = (people or {}).get(k)
                row["name"] = who.name if who else k
                row["known"] = who is not None and who.known
            groups.append(row)
        out["groups"] = groups
    return out
