"""Dead-man checks ("heartbeats"): the pure state machine, with Healthchecks' semantics.

A check expects a ping every ``period``; it enters *grace* when the ping is late and goes *down*
``grace`` later. A ``start`` ping that is not followed by a success within ``grace`` also means
down (the job hung). ``fail`` pings go down at once; any success brings the check up.

Triage (``triage/heartbeats.py``) stores ``CheckState`` per check and calls ``evaluate`` at
``next_check_at`` (the time it returned last), and ``on_ping`` on every ping. It should only
apply the result if the stored status is still the one it read (compare-and-set), as Healthchecks'
``sendalerts`` does.
New and paused checks never go down: a check is armed by its first success ping.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from koban.domain.alerts import AlertAction, AlertEvent, Severity


class CheckStatus(enum.StrEnum):
    NEW = "new"
    UP = "up"
    GRACE = "grace"
    DOWN = "down"
    PAUSED = "paused"


class PingKind(enum.StrEnum):
    SUCCESS = "success"
    START = "start"
    FAIL = "fail"
    LOG = "log"  # recorded by koban, changes nothing


@dataclass(frozen=True, slots=True)
class CheckState:
    check_id: str
    name: str
    period: timedelta = timedelta(days=1)
    grace: timedelta = timedelta(hours=1)
    status: CheckStatus = CheckStatus.NEW
    last_ping_at: datetime | None = None
    started_at: datetime | None = None  # outstanding /start ping
    manual_resume: bool = False  # paused checks ignore pings until resumed by a person
    severity: Severity = Severity.CRITICAL

    @property
    def dedup_key(self) -> str:
        return f"heartbeat:{self.check_id}"


Result = tuple[CheckState, AlertEvent | None, datetime | None]


def grace_starts_at(state: CheckState) -> datetime | None:
    if state.last_ping_at is None:
        return None
    expected = state.last_ping_at + state.period
    # A run that started must finish within grace, even if the next ping is not due yet.
    return min(expected, state.started_at) if state.started_at else expected


def evaluate(state: CheckState, now: datetime) -> Result:
    """Advance the check to ``now``: ``(new_state, event or None, next_check_at or None)``."""
    if state.status in (CheckStatus.NEW, CheckStatus.PAUSED, CheckStatus.DOWN):
        return state, None, None
    grace_start = grace_starts_at(state)
    if grace_start is None:
        return state, None, None
    grace_end = grace_start + state.grace
    if now >= grace_end:
        down = replace(state, status=CheckStatus.DOWN)
        return down, _event(down, AlertAction.TRIGGER, _down_reason(state)), None
    if now >= grace_start:
        return replace(state, status=CheckStatus.GRACE), None, grace_end
    return replace(state, status=CheckStatus.UP), None, grace_start


def on_ping(state: CheckState, kind: PingKind | str, now: datetime) -> Result:
    kind = PingKind(kind)
    if state.status is CheckStatus.PAUSED and state.manual_resume:
        return state, None, None
    if kind is PingKind.LOG:
        return evaluate(state, now)
    if kind is PingKind.START:
        return evaluate(replace(state, started_at=now), now)
    old = state.status
    new_status = CheckStatus.DOWN if kind is PingKind.FAIL else CheckStatus.UP
    pinged = replace(state, status=new_status, last_ping_at=now, started_at=None)
    event = None
    if new_status is CheckStatus.DOWN and old is not CheckStatus.DOWN:
        event = _event(pinged, AlertAction.TRIGGER, f"{state.name} reported a failure")
    elif new_status is CheckStatus.UP and old is CheckStatus.DOWN:
        event = _event(pinged, AlertAction.RESOLVE, f"{state.name} is up again")
    if new_status is CheckStatus.DOWN:
        return pinged, event, None
    _, _, next_check = evaluate(pinged, now)
    return pinged, event, next_check


def pause(state: CheckState) -> CheckState:
    """Pausing never pages and never resolves: an open incident stays for a person to close."""
    return replace(state, status=CheckStatus.PAUSED, started_at=None)


def _down_reason(state: CheckState) -> str:
    expected = state.last_ping_at + state.period if state.last_ping_at else None
    if state.started_at and (expected is None or state.started_at < expected):
        return f"{state.name} started at {state.started_at.isoformat()}, unfinished after {state.grace}"
    last = state.last_ping_at.isoformat() if state.last_ping_at else "ever"
    return f"{state.name} is down: no ping since {last}"


def _event(state: CheckState, action: AlertAction, summary: str) -> AlertEvent:
    return AlertEvent(
        dedup_key=state.dedup_key,
        action=action,
        severity=state.severity,
        summary=summary,
        source="heartbeat",
        details={
            "check_id": state.check_id,
            "period_seconds": state.period.total_seconds(),
            "grace_seconds": state.grace.total_seconds(),
            "last_ping_at": state.last_ping_at.isoformat() if state.last_ping_at else None,
            "started_at": state.started_at.isoformat() if state.started_at else None,
        },
        labels={"check": state.name},
    )
