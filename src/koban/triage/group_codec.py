"""Aggregation group state (``routing/grouping.GroupState``) to and from the JSON column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from koban.domain.alerts import AlertAction, AlertEvent, Severity
from koban.routing.alertstore import GroupAlert, StoredAlert
from koban.routing.grouping import GroupState, NotifyLog
from koban.routing.routes import GroupTimers


def dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def ts(when: datetime | None) -> float | None:
    return None if when is None else when.timestamp()


def event_to_json(ev: AlertEvent) -> dict[str, Any]:
    return {
        "dedup_key": ev.dedup_key,
        "action": ev.action.value,
        "severity": ev.severity.value,
        "summary": ev.summary,
        "source": ev.source,
        "details": dict(ev.details),
        "labels": dict(ev.labels),
        "links": [dict(x) for x in ev.links],
        "group_key": ev.group_key,
        "occurred_at": ts(ev.occurred_at),
        "ends_at": ts(ev.ends_at),
    }


def event_from_json(d: dict[str, Any]) -> AlertEvent:
    return AlertEvent(
        dedup_key=d["dedup_key"],
        action=AlertAction(d["action"]),
        severity=Severity(d["severity"]),
        summary=d["summary"],
        source=d["source"],
        details=d["details"],
        labels=d["labels"],
        links=tuple(d["links"]),
        group_key=d["group_key"],
        occurred_at=dt(d["occurred_at"]),
        ends_at=dt(d["ends_at"]),
    )


def _alert(a: GroupAlert) -> dict[str, Any]:
    return {
        "fingerprint": a.fingerprint,
        "labels": dict(a.labels),
        "starts_at": ts(a.starts_at),
        "ends_at": ts(a.ends_at),
        "updated_at": ts(a.updated_at),
        "event": event_to_json(a.event) if a.event else None,
    }


def _alert_back(d: dict[str, Any]) -> GroupAlert:
    return GroupAlert(
        fingerprint=d["fingerprint"],
        labels=d["labels"],
        starts_at=dt(d["starts_at"]),  # type: ignore[arg-type]
        ends_at=dt(d["ends_at"]),
        updated_at=dt(d["updated_at"]),  # type: ignore[arg-type]
        event=event_from_json(d["event"]) if d["event"] else None,
    )


def state_to_json(s: GroupState) -> dict[str, Any]:
    last = s.last_notified
    return {
        "key": s.key,
        "receiver": s.receiver,
        "timers": [
            s.timers.group_wait.total_seconds(),
            s.timers.group_interval.total_seconds(),
            s.timers.repeat_interval.total_seconds(),
            s.timers.send_resolved,
        ],
        "group_labels": dict(s.group_labels),
        "alerts": {
            fp: {
                "latest": _alert(a.latest),
                "first_starts_at": ts(a.first_starts_at),
                "last_resolution": ts(a.last_resolution),
                "tombstoned_at": ts(a.tombstoned_at),
            }
            for fp, a in s.alerts.items()
        },
        "next_flush_at": ts(s.next_flush_at),
        "has_flushed": s.has_flushed,
        "last_notified": None
        if last is None
        else {"firing": sorted(last.firing), "resolved": sorted(last.resolved), "at": ts(last.at)},
        "tombstone_ttl": s.tombstone_ttl.total_seconds(),
    }


def state_from_json(d: dict[str, Any]) -> GroupState:
    wait, interval, repeat, send_resolved = d["timers"]
    last = d["last_notified"]
    return GroupState(
        key=d["key"],
        receiver=d["receiver"],
        timers=GroupTimers(
            timedelta(seconds=wait), timedelta(seconds=interval), timedelta(seconds=repeat), send_resolved
        ),
        group_labels=d["group_labels"],
        alerts={
            fp: StoredAlert(
                _alert_back(a["latest"]),
                dt(a["first_starts_at"]),  # type: ignore[arg-type]
                dt(a["last_resolution"]),
                dt(a["tombstoned_at"]),
            )
            for fp, a in d["alerts"].items()
        },
        next_flush_at=dt(d["next_flush_at"]),
        has_flushed=d["has_flushed"],
        last_notified=None
        if last is None
        else NotifyLog(frozenset(last["firing"]), frozenset(last["resolved"]), dt(last["at"])),  # type: ignore[arg-type]
        tombstone_ttl=timedelta(seconds=d["tombstone_ttl"]),
    )
