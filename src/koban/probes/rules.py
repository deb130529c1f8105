"""Confirmation and state rules: from probe results to up/down transitions and AlertEvents. Pure.

- Confirmation: a failed probe is re-checked at once up to ``rechecks`` times (the runner does it);
  only the *final* attempt counts, so a single dropped packet never pages anyone.
- "down for X": the failure must persist X seconds, measured from the first failed probe (like a
  Prometheus ``for:``, but anchored on probe times, so it works at any interval).
- "slower than T for X": successful probes slower than T ms, persisting X seconds.
- "N of M locations": the condition must hold in at least N locations, judged on the latest final
  result per location; results older than ``stale_after`` do not count (a silent location is not "up").
  N is capped at the number of locations reporting, so losing locations cannot hide an outage.

Only transitions produce events (Uptime Kuma's "important beats"): up->down triggers, down->up
resolves, and a change of reason while down (slow -> failing) re-triggers with the new severity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from koban.domain.alerts import AlertAction, AlertEvent, Severity
from koban.probes.result import ProbeResult

SOURCE = "koban.probes"


def should_recheck(success: bool, attempt: int, rechecks: int) -> bool:
    """Re-check at once after a failure, up to ``rechecks`` extra attempts."""
    return not success and attempt < rechecks


@dataclass(frozen=True, slots=True)
class Rule:
    monitor_id: str
    service: str
    name: str = ""
    down_for: float = 0.0  # seconds a failure must last before it pages
    slow_ms: float | None = None  # a successful probe slower than this is "slow"
    slow_for: float = 0.0
    min_failed_locations: int = 1  # N of M
    stale_after: float | None = None  # seconds; older per-location results are ignored
    severity: Severity = Severity.CRITICAL
    slow_severity: Severity = Severity.WARNING

    @property
    def label(self) -> str:
        return self.name or self.monitor_id


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The latest final result of one location, with the start of its current failing/slow streak."""

    at: datetime
    success: bool
    duration_ms: float
    error: str = ""
    fail_since: datetime | None = None
    slow_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class MonitorState:
    status: str = "unknown"  # "up" | "down" | "unknown"
    reason: str = ""  # when down: "failing" or "slow"
    since: datetime | None = None  # when the current status began
    pending: bool = False  # the condition holds but not yet for long enough
    latest: Mapping[str, Snapshot] = field(default_factory=dict)


def record(state: MonitorState, rule: Rule, result: ProbeResult) -> MonitorState:
    """Fold one result into the per-location snapshots; non-final attempts are ignored."""
    if not result.final:
        return state
    prev = state.latest.get(result.location)
    ms = result.duration * 1000
    slow = result.success and rule.slow_ms is not None and ms > rule.slow_ms
    fail_since = (
        None if result.success else (prev.fail_since if prev and prev.fail_since else result.started_at)
    )
    slow_since = (prev.slow_since if prev and prev.slow_since else result.started_at) if slow else None
    snap = Snapshot(result.started_at, result.success, ms, result.error, fail_since, slow_since)
    return replace(state, latest={**state.latest, result.location: snap})


def _held_since(starts: list[datetime], need: int) -> datetime | None:
    """When "at least ``need`` locations" became true: the need-th earliest streak start."""
    return sorted(starts)[need - 1] if len(starts) >= need else None


def evaluate(state: MonitorState, rule: Rule, now: datetime) -> tuple[MonitorState, list[AlertEvent]]:
    fresh = {
        loc: s
        for loc, s in state.latest.items()
        if rule.stale_after is None or (now - s.at).total_seconds() <= rule.stale_after
    }
    if not fresh:
        return state, []  # no data is not evidence either way: keep the status
    need = max(1, min(rule.min_failed_locations, len(fresh)))
    failing = {loc: s for loc, s in fresh.items() if s.fail_since is not None}
    slow = {loc: s for loc, s in fresh.items() if s.slow_since is not None}
    fail_start = _held_since([s.fail_since for s in failing.values() if s.fail_since], need)
    slow_start = _held_since([s.slow_since for s in slow.values() if s.slow_since], need)

    reason = ""
    if fail_start is not None and (now - fail_start).total_seconds() >= rule.down_for:
        reason = "failing"
    elif slow_start is not None and (now - slow_start).total_seconds() >= rule.slow_for:
        reason = "slow"
    pending = not reason and (fail_start is not None or slow_start is not None)
    status = "down" if reason else "up"

    if status == "up" and state.status == "up" or status == "down" and state.reason == reason:
        return replace(state, pending=pending), []
    new = replace(state, status=status, reason=reason, since=now, pending=pending)
    if status == "up":
        if state.status == "unknown":
            return new, []  # first result is up: nothing was ever announced
        return new, [_resolve_event(rule, state, now)]
    culprits = failing if reason == "failing" else slow
    start = fail_start if reason == "failing" else slow_start
    return new, [_trigger_event(rule, reason, culprits, len(fresh), start or now, now)]


def observe(
    state: MonitorState, rule: Rule, result: ProbeResult, now: datetime
) -> tuple[MonitorState, list[AlertEvent]]:
    """``record`` then ``evaluate``: what the worker calls for each stored result."""
    return evaluate(record(state, rule, result), rule, now)


def announces(state: MonitorState, rule: Rule, result: ProbeResult, now: datetime) -> bool:
    """Would this result change the monitor's state (trigger, resolve, re-trigger)?

    The prober asks it of every final result, on what it knows locally, to store and judge such a
    result at once instead of after the batch timer: a state change is a page, history is not.
    """
    if not result.final:
        return False
    if result.success and state.status == "up" and rule.slow_ms is None:
        return False  # the common case, without building a state
    return bool(observe(state, rule, result, now)[1])


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60}m"


def _trigger_event(
    rule: Rule,
    reason: str,
    culprits: Mapping[str, Snapshot],
    total: int,
    start: datetime,
    now: datetime,
) -> AlertEvent:
    first = min((s.fail_since or s.slow_since or s.at) for s in culprits.values())
    if reason == "failing":
        what = {loc or "default": s.error or "failed" for loc, s in culprits.items()}
        headline = f"{rule.label} is down"
        severity = rule.severity
    else:
        what = {
            loc or "default": f"{s.duration_ms:.0f} ms > {rule.slow_ms:g} ms" for loc, s in culprits.items()
        }
        headline = f"{rule.label} is slow"
        severity = rule.slow_severity
    where = f" in {len(culprits)} of {total} locations" if total > 1 else ""
    reasons = "; ".join(f"{loc}: {msg}" if total > 1 else msg for loc, msg in sorted(what.items()))
    summary = f"{headline}{where} for {_duration((now - start).total_seconds())}: {reasons}"
    return AlertEvent(
        dedup_key=f"monitor:{rule.monitor_id}",
        action=AlertAction.TRIGGER,
        severity=severity,
        summary=summary[:1000],
        source=SOURCE,
        details={
            "monitor_id": rule.monitor_id,
            "service": rule.service,
            "reason": reason,
            "first_failed_at": first.isoformat(),
            "condition_since": start.isoformat(),
            "locations": what,
            "locations_total": total,
        },
        labels={"service": rule.service, "monitor": rule.monitor_id},
        occurred_at=first,
    )


def _resolve_event(rule: Rule, state: MonitorState, now: datetime) -> AlertEvent:
    lasted = f" after {_duration((now - state.since).total_seconds())}" if state.since else ""
    return AlertEvent(
        dedup_key=f"monitor:{rule.monitor_id}",
        action=AlertAction.RESOLVE,
        severity=rule.severity if state.reason == "failing" else rule.slow_severity,
        summary=f"{rule.label} is up again{lasted}",
        source=SOURCE,
        details={"monitor_id": rule.monitor_id, "service": rule.service, "was": state.reason},
        labels={"service": rule.service, "monitor": rule.monitor_id},
        occurred_at=now,
    )
