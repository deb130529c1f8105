"""Alert → incident: the pure decision for one alert event against its key's state.

Each alert key (the dedup key; for grouped alerts, the member inside its group) keeps a
**clock**: the newest trigger time and the newest resolve time its sources reported. The key is
firing when its newest trigger is strictly newer than its newest resolve (a tie resolves). Both
are maxima, so the key's state does not depend on delivery order or on duplicates:

* the same delivery twice, or a batch repeating an alert: the second copy moves no clock;
* a resolve that overtakes its trigger is remembered; the late trigger is older, so it opens
  nothing (it is recorded as an alert with the reason);
* a stale resolve (older than the trigger that opened the incident) closes nothing.

Times come from the source (``occurred_at`` / ``ends_at``) when it sends them. An event without
one is ordered by arrival: it counts as newer than anything the key has seen. A time later than
``now`` (the receipt) is a sender's clock running ahead, or Alertmanager's ``startsAt`` set to the
future end of an ``amtool alert add --end``: it is ordered by arrival too, so a clock that runs
ahead can never make the key's later resolve look stale and keep an incident open.

The invariant koban keeps: an incident is open for a key exactly while the clock says firing
(for groups: while any member is). A trigger that moves nothing (a duplicate of an alert whose
incident a person already resolved) opens nothing new; a newer trigger does.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from koban.domain.alerts import AlertAction, AlertEvent, Severity

FIRING, RESOLVED = "firing", "resolved"


@dataclass(frozen=True, slots=True)
class KeyClock:
    fired_at: float | None = None
    resolved_at: float | None = None

    @property
    def firing(self) -> bool:
        return self.fired_at is not None and (self.resolved_at is None or self.fired_at > self.resolved_at)

    def join(self, other: KeyClock) -> KeyClock:
        """Merge two clocks (commutative, associative, idempotent): what concurrent writers store."""
        return KeyClock(_max(self.fired_at, other.fired_at), _max(self.resolved_at, other.resolved_at))


@dataclass(frozen=True, slots=True)
class OpenIncident:
    status: str  # triggered | acknowledged
    severity: Severity
    members: Mapping[str, str] = field(default_factory=dict)  # grouped incidents: dedup key -> state


class Verdict(enum.StrEnum):
    OPEN = "open"
    REPEAT = "repeat"
    ACKNOWLEDGE = "acknowledge"
    MEMBER_RESOLVED = "member_resolved"
    RESOLVE = "resolve"
    IGNORE = "ignore"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    clock: KeyClock  # the key's clock to store
    members: Mapping[str, str] | None = None  # the grouped incident's members, when they change
    raise_severity: Severity | None = None
    retrigger: bool = False
    member_added: bool = False
    reason: str | None = None  # why ignored (shown in the ingest answer and on alerts.muted_reason)


def event_time(event: AlertEvent, clock: KeyClock, now: float) -> float:
    """The source's own time for the event, bounded by ``now``; or (none given, or later than now)
    just after everything the key saw."""
    at = own_time(event)
    if at is not None and at <= now:
        return at
    # Arrival order: later than now and than both clocks, so it always takes effect.
    seen = [x for x in (clock.fired_at, clock.resolved_at) if x is not None and x >= now]
    return math.nextafter(max(seen), math.inf) if seen else now


def decide(
    incident: OpenIncident | None,
    clock: KeyClock,
    event: AlertEvent,
    now: float,
    *,
    muted: str | None = None,
    retrigger_acknowledged: bool = False,
) -> Decision:
    """What one alert event does. ``incident`` is the open incident for the event's incident key."""
    if event.action is AlertAction.ACKNOWLEDGE:
        if incident is None:
            return Decision(Verdict.IGNORE, clock, reason=f"no open incident for {event.dedup_key!r}")
        return Decision(Verdict.ACKNOWLEDGE, clock)
    at = event_time(event, clock, now)
    if event.action is AlertAction.RESOLVE:
        return _resolve(incident, clock, event, at)
    if muted is not None:
        # Muted triggers leave the clock alone: once the mute ends, a re-send still opens an incident.
        return Decision(Verdict.IGNORE, clock, reason=muted)
    return _trigger(incident, clock, event, at, retrigger_acknowledged)


def _trigger(
    incident: OpenIncident | None, clock: KeyClock, event: AlertEvent, at: float, retrigger_ack: bool
) -> Decision:
    new = clock.join(KeyClock(fired_at=at))
    grouped = event.group_key is not None
    if not new.firing:
        when = _iso(clock.resolved_at)
        return Decision(
            Verdict.IGNORE, new, reason=f"stale trigger: {event.dedup_key!r} was resolved at {when}"
        )
    if incident is None:
        if clock.firing and new == clock:
            # Nothing new since the incident this alert opened was closed by a person.
            return Decision(
                Verdict.IGNORE, new, reason=f"duplicate of an alert already handled ({event.dedup_key!r})"
            )
        members = {event.dedup_key: FIRING} if grouped else None
        return Decision(Verdict.OPEN, new, members=members)
    members = None
    added = False
    if grouped and incident.members.get(event.dedup_key) != FIRING:
        members = {**incident.members, event.dedup_key: FIRING}
        added = True
    raised = event.severity if event.severity.rank > incident.severity.rank else None
    retrigger = retrigger_ack and incident.status == "acknowledged" and (new != clock or added)
    return Decision(Verdict.REPEAT, new, members, raised, retrigger, member_added=added)


def _resolve(incident: OpenIncident | None, clock: KeyClock, event: AlertEvent, at: float) -> Decision:
    new = clock.join(KeyClock(resolved_at=at))
    if incident is None:
        # Remembered all the same: a trigger that was overtaken by this resolve must not open.
        return Decision(Verdict.IGNORE, new, reason=f"no open incident for {event.dedup_key!r}")
    if new.firing:
        when = _iso(clock.fired_at)
        return Decision(
            Verdict.IGNORE, new, reason=f"stale resolve: {event.dedup_key!r} fired again at {when}"
        )
    if event.group_key is None:
        return Decision(Verdict.RESOLVE, new)
    members = {**incident.members, event.dedup_key: RESOLVED}
    if any(state == FIRING for state in members.values()):
        return Decision(Verdict.MEMBER_RESOLVED, new, members=members)
    return Decision(Verdict.RESOLVE, new, members=members)


def decide_repeats(
    incident: OpenIncident | None,
    clock: KeyClock,
    earliest: AlertEvent,
    latest: AlertEvent,
    count: int,
    now: float,
    *,
    muted: str | None = None,
    retrigger_acknowledged: bool = False,
) -> Decision | None:
    """What ``count`` copies of one alert do together, applied one after another: copies identical
    apart from their times (``earliest`` and ``latest`` are those with the earliest and the latest
    own time, the same time when they are alike), as a flood of re-sends brings them.

    A Decision when together they only move the clock and the count (a plain REPEAT, retriggering
    at most once) or are all ignored for the same reason: the caller applies it once for all of
    them. None when a copy may do more (open, resolve, raise the severity...): the caller applies
    each copy alone. Between ``earliest`` and ``latest`` every decision is monotone in the event's
    time (the clocks are maxima, firing is "newest trigger newer than newest resolve"), so when
    both ends are quiet alike, every copy between them is too.
    """
    alike = own_time(earliest) == own_time(latest)
    if not alike and event_time(latest, KeyClock(), now) != own_time(latest):
        return None  # ordered by arrival, each copy moves the clock on its own: apply them one by one
    lo = decide(incident, clock, earliest, now, muted=muted, retrigger_acknowledged=retrigger_acknowledged)
    if not _quiet(lo):
        return None
    hi = (
        lo
        if alike
        else decide(incident, clock, latest, now, muted=muted, retrigger_acknowledged=retrigger_acknowledged)
    )
    if not _quiet(hi) or hi.verdict is not lo.verdict or hi.reason != lo.reason:
        return None
    if not alike:
        # Own times: the clock ends at the join of all copies, the latest's; one retrigger at most.
        return replace(hi, retrigger=lo.retrigger or hi.retrigger)
    # Alike copies, one after another: each one's decision feeds the next (a copy ordered by
    # arrival moves the clock just past the one before); stop as soon as a copy changes nothing.
    d, retrigger = lo, lo.retrigger
    for _ in range(count - 1):
        if retrigger and incident is not None:
            incident = replace(incident, status="triggered")
        nxt = decide(
            incident, d.clock, latest, now, muted=muted, retrigger_acknowledged=retrigger_acknowledged
        )
        if not _quiet(nxt) or nxt.verdict is not lo.verdict or nxt.reason != lo.reason:
            return None
        if nxt.clock == d.clock and not nxt.retrigger:
            break
        d, retrigger = nxt, retrigger or nxt.retrigger
    return replace(d, retrigger=retrigger)


def own_time(event: AlertEvent) -> float | None:
    """The time the source gave the event (its end for a resolve), as epoch seconds; None: none."""
    own = (event.ends_at or event.occurred_at) if event.action is AlertAction.RESOLVE else event.occurred_at
    return own.timestamp() if own is not None else None


def _quiet(d: Decision) -> bool:
    if d.verdict is Verdict.IGNORE:
        return True
    return (
        d.verdict is Verdict.REPEAT and d.members is None and d.raise_severity is None and not d.member_added
    )


def fold(
    events: list[AlertEvent], now: float, incident: OpenIncident | None = None
) -> tuple[OpenIncident | None, dict[str, KeyClock]]:
    """Apply events in order to one incident key, as koban would (tests and properties)."""
    clocks: dict[str, KeyClock] = {}
    for ev in events:
        d = decide(incident, clocks.get(ev.dedup_key, KeyClock()), ev, now)
        clocks[ev.dedup_key] = d.clock
        if d.verdict is Verdict.OPEN:
            incident = OpenIncident("triggered", ev.severity, d.members or {})
        elif d.verdict is Verdict.RESOLVE:
            incident = None
        elif d.verdict in (Verdict.REPEAT, Verdict.MEMBER_RESOLVED) and incident is not None:
            incident = replace(
                incident,
                members=d.members if d.members is not None else incident.members,
                severity=d.raise_severity or incident.severity,
            )
    return incident, clocks


def _max(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def _iso(at: float | None) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat() if at is not None else "an unknown time"
