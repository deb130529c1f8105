"""The rows an alert event leaves: its ``alerts`` row (one for a run of collapsed copies, with
``repeats``) and the timeline notes of an incident it was muted or ignored for."""

from __future__ import annotations

from typing import Any

from koban.db.uow import UnitOfWork
from koban.domain.alerts import AlertEvent
from koban.triage.group_codec import event_to_json
from koban.triage.outcome import AlertOutcome


def record_alert(
    uow: UnitOfWork,
    integration_id: str | None,
    service_id: str,
    ev: AlertEvent,
    res: AlertOutcome,
    now: float,
    repeats: int = 1,
) -> None:
    uow.alerts.append(
        {
            "incident_id": res.incident_id,
            "integration_id": integration_id,
            "service_id": service_id,
            "dedup_key": ev.dedup_key,
            "action": ev.action.value,
            "severity": ev.severity.value,
            "summary": ev.summary[:2000],
            "event": event_to_json(ev),
            "received_at": now,
            "muted_reason": res.ignored,
            "repeats": repeats,
        }
    )


def alert_notes(
    uow: UnitOfWork,
    row: dict[str, Any] | None,
    ev: AlertEvent,
    muted: str | None,
    ignored: str | None,
    now: float,
    repeats: int,
) -> None:
    if row is None:
        return
    more = {"repeats": repeats} if repeats > 1 else {}
    if muted is not None:
        uow.note(row["id"], now, "alert.muted", via=ev.source or None, data={"reason": muted, **more})
    elif ignored is not None:
        # A stale resolve or a refused acknowledgement is part of the incident's story: shown
        # where responders look, not only in alerts.muted_reason.
        data = {"dedup_key": ev.dedup_key, "action": ev.action.value, "reason": ignored, **more}
        uow.note(row["id"], now, "alert.ignored", via=ev.source or None, data=data)
