"""Aggregation groups with Alertmanager's timers and dedup decision (semantics.md §3.1).

One ``GroupState`` per (route, group labels) = ``groupKey``; koban persists it and calls
``step(state, alert_or_None, now)`` when an alert arrives and when ``next_due`` comes. Emitted
``Flush``es are notifications to send; the state records them as sent (koban must write the
flush as a durable outbox row in the same transaction as the new state: a flush is never lost).

Timers, as in ``dispatch.go``:
* a new group flushes ``group_wait`` after its first alert, or at once if an alert's ``startsAt``
  is older than ``group_wait`` ("old enough for immediate flush") while it has not flushed yet;
* then it ticks every ``group_interval``; each tick runs the dedup decision (``needs_update``) and
  ``repeat_interval`` is only checked on ticks, so it is rounded up to whole ``group_interval``s;
* after each tick resolved alerts leave the group; an empty group stops (the next alert starts a
  new ``group_wait``) but the notification log is kept, as Alertmanager's nflog outlives groups.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from koban.routing.alertstore import GroupAlert, StoredAlert, merge_into
from koban.routing.routes import GroupTimers, RouteNode, group_key, group_labels

DEFAULT_TOMBSTONE_TTL = timedelta(hours=1)


class FlushReason(enum.StrEnum):
    FIRST = "first notification"
    NEW_ALERTS = "new alerts added"
    SOME_RESOLVED = "some alerts resolved"
    ALL_RESOLVED = "all alerts resolved"
    REPEAT = "repeat interval elapsed"


@dataclass(frozen=True, slots=True)
class NotifyLog:
    """The last notification for this group (Alertmanager's nflog entry)."""

    firing: frozenset[str]
    resolved: frozenset[str]
    at: datetime


@dataclass(frozen=True, slots=True)
class Flush:
    group_key: str
    receiver: str
    reason: FlushReason
    firing: tuple[GroupAlert, ...]
    resolved: tuple[GroupAlert, ...]  # empty when the route has send_resolved off
    group_labels: Mapping[str, str]
    at: datetime

    @property
    def send(self) -> bool:
        """False for "all resolved" with send_resolved off: logged (clears the nflog), nothing sent."""
        return bool(self.firing or self.resolved)


@dataclass(frozen=True, slots=True)
class GroupState:
    key: str
    receiver: str
    timers: GroupTimers
    group_labels: Mapping[str, str] = field(default_factory=dict)
    alerts: Mapping[str, StoredAlert] = field(default_factory=dict)
    next_flush_at: datetime | None = None  # None: the group is not running
    has_flushed: bool = False
    last_notified: NotifyLog | None = None
    tombstone_ttl: timedelta = DEFAULT_TOMBSTONE_TTL

    def live_alerts(self) -> list[GroupAlert]:
        return [a.view() for _, a in sorted(self.alerts.items()) if a.tombstoned_at is None]

    @property
    def is_disposable(self) -> bool:
        """Nothing left to remember except the nflog: koban may archive the row."""
        return not self.alerts and self.next_flush_at is None


Step = tuple[GroupState, list[Flush], datetime | None]


def step(state: GroupState, alert: GroupAlert | None, now: datetime) -> Step:
    """Apply one arrival (or a timer tick when ``alert`` is None) at ``now``."""
    state = _forget_old_tombstones(state, now)
    if alert is not None:
        state = _insert(state, alert, now)
    flushes: list[Flush] = []
    if state.next_flush_at is not None and now >= state.next_flush_at:
        state, flush = _flush(state, now)
        if flush is not None:
            flushes.append(flush)
    return state, flushes, state.next_flush_at


def _insert(state: GroupState, alert: GroupAlert, now: datetime) -> GroupState:
    alerts = merge_into(state.alerts, alert)
    if alerts[alert.fingerprint].tombstoned_at is not None:
        return replace(state, alerts=alerts)  # a stale copy of an alert already reported resolved
    next_flush, has_flushed = state.next_flush_at, state.has_flushed
    if next_flush is None:
        next_flush, has_flushed = now + state.timers.group_wait, False
    if not has_flushed and alerts[alert.fingerprint].view().starts_at + state.timers.group_wait < now:
        next_flush = now  # "Alert is old enough for immediate flush"
    return replace(state, alerts=alerts, next_flush_at=next_flush, has_flushed=has_flushed)


def _flush(state: GroupState, now: datetime) -> tuple[GroupState, Flush | None]:
    live = state.live_alerts()
    firing = tuple(a for a in live if not a.is_resolved(now))
    resolved = tuple(a for a in live if a.is_resolved(now))
    firing_set = frozenset(a.fingerprint for a in firing)
    resolved_set = frozenset(a.fingerprint for a in resolved)
    reason = needs_update(state.last_notified, firing_set, resolved_set, state.timers, now)
    flush = None
    last = state.last_notified
    if reason is not None:
        shown = resolved if state.timers.send_resolved else ()
        flush = Flush(state.key, state.receiver, reason, firing, shown, state.group_labels, now)
        last = NotifyLog(firing_set, resolved_set, now)
    # Resolved alerts leave the group after every tick, notified or not (aggrGroup.flush).
    alerts = {
        fp: replace(a, tombstoned_at=now) if fp in resolved_set else a for fp, a in state.alerts.items()
    }
    running = bool(firing)
    return (
        replace(
            state,
            alerts=alerts,
            last_notified=last,
            has_flushed=running,
            next_flush_at=now + state.timers.group_interval if running else None,
        ),
        flush,
    )


def needs_update(
    last: NotifyLog | None,
    firing: frozenset[str],
    resolved: frozenset[str],
    timers: GroupTimers,
    now: datetime,
) -> FlushReason | None:
    """Alertmanager's ``DedupStage.needsUpdate``, returning the ``notification_reason``."""
    if last is None:
        return FlushReason.FIRST if firing else None
    if not firing <= last.firing:
        return FlushReason.NEW_ALERTS if last.firing else FlushReason.FIRST
    if not firing:
        # Sent even with send_resolved off, so the log stops saying these alerts are firing.
        return FlushReason.ALL_RESOLVED if last.firing else None
    if timers.send_resolved and not resolved <= last.resolved:
        return FlushReason.SOME_RESOLVED
    if last.at < now - timers.repeat_interval:
        return FlushReason.REPEAT
    return None


def _forget_old_tombstones(state: GroupState, now: datetime) -> GroupState:
    ttl = state.tombstone_ttl
    kept = {fp: a for fp, a in state.alerts.items() if a.tombstoned_at is None or a.tombstoned_at + ttl > now}
    return state if len(kept) == len(state.alerts) else replace(state, alerts=kept)


def new_group(node: RouteNode, labels: Mapping[str, str]) -> GroupState:
    """The empty state for the group an alert with ``labels`` joins on route ``node``."""
    return GroupState(
        key=group_key(node, labels),
        receiver=node.receiver,
        timers=node.timers,
        group_labels=group_labels(node, labels),
    )
