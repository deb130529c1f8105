"""One alert inside an aggregation group, and how repeated/out-of-order versions merge.

Alertmanager merges versions by ``UpdatedAt`` (``types.Alert.Merge``): the younger wins, the earliest
``startsAt`` is kept, and of two resolutions the later ``endsAt`` wins. We keep the same outcome but
store it as a join (max of versions, min of starts, max of explicit ends), so merging is
commutative, associative and idempotent: any interleaving of duplicate and out-of-order deliveries
gives the same alert. "Explicitly resolved" is judged at the version's own ``updated_at`` (not at
``now``), which is what makes the merge independent of arrival time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from koban.domain.alerts import AlertAction, AlertEvent


@dataclass(frozen=True, slots=True)
class GroupAlert:
    """One version of an alert as delivered. ``updated_at`` orders versions (sender time if known)."""

    fingerprint: str
    labels: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime | None
    updated_at: datetime
    # What the source sent, for the notification; not part of the alert's identity or ordering.
    event: AlertEvent | None = field(default=None, compare=False)

    def is_resolved(self, now: datetime) -> bool:
        return self.ends_at is not None and self.ends_at <= now

    @property
    def explicitly_resolved(self) -> bool:
        return self.is_resolved(self.updated_at)

    def version_key(self) -> tuple[object, ...]:
        # Total order so ties never depend on arrival order; a resolution beats a re-send at a tie.
        ends = self.ends_at.timestamp() if self.ends_at else float("inf")
        return (
            self.updated_at,
            self.explicitly_resolved,
            ends,
            self.starts_at,
            tuple(sorted(self.labels.items())),
        )


@dataclass(frozen=True, slots=True)
class StoredAlert:
    latest: GroupAlert
    first_starts_at: datetime
    last_resolution: datetime | None  # max endsAt among explicitly resolved versions
    # Set when a flush has reported it resolved: hidden from later flushes, kept so a late older
    # version cannot bring it back to life; dropped after the tombstone TTL.
    tombstoned_at: datetime | None = None

    @classmethod
    def of(cls, alert: GroupAlert) -> StoredAlert:
        return cls(alert, alert.starts_at, alert.ends_at if alert.explicitly_resolved else None)

    def view(self) -> GroupAlert:
        ends = self.latest.ends_at
        starts = self.first_starts_at
        if self.latest.explicitly_resolved and self.last_resolution is not None:
            ends = self.last_resolution
        elif self.last_resolution is not None and self.latest.starts_at > self.last_resolution:
            # Fired again after a resolution: a new episode (Alertmanager only merges overlapping
            # alerts), so it must not inherit the old start, or it would look "old enough" to flush.
            starts = self.latest.starts_at
        return replace(self.latest, starts_at=starts, ends_at=ends)

    def merge(self, alert: GroupAlert) -> StoredAlert:
        latest = max(self.latest, alert, key=GroupAlert.version_key)
        resolution = self.last_resolution
        if alert.explicitly_resolved and alert.ends_at is not None:
            resolution = alert.ends_at if resolution is None else max(resolution, alert.ends_at)
        merged = StoredAlert(
            latest, min(self.first_starts_at, alert.starts_at), resolution, self.tombstoned_at
        )
        if merged.view() != self.view():
            merged = replace(merged, tombstoned_at=None)  # something new: the alert is live again
        return merged


def merge_into(alerts: Mapping[str, StoredAlert], alert: GroupAlert) -> dict[str, StoredAlert]:
    out = dict(alerts)
    current = out.get(alert.fingerprint)
    out[alert.fingerprint] = StoredAlert.of(alert) if current is None else current.merge(alert)
    return out


def alert_from_event(event: AlertEvent, now: datetime, updated_at: datetime | None = None) -> GroupAlert:
    """A source event as a group member. A RESOLVE without ``ends_at`` ends at ``occurred_at`` or now."""
    starts = event.occurred_at if event.action is not AlertAction.RESOLVE and event.occurred_at else now
    ends = event.ends_at
    if event.action is AlertAction.RESOLVE:
        ends = min(ends or event.occurred_at or now, now)
    return GroupAlert(
        fingerprint=event.dedup_key,
        labels=dict(event.labels),
        starts_at=min(starts, ends) if ends else starts,
        ends_at=ends,
        updated_at=updated_at or now,
        event=event,
    )
