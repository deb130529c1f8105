"""Small builders shared by the channel tests (alice, bob, carol)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from koban.channels.actions import ActionResult, IncidentAction, Outcome
from koban.channels.base import IncidentView, Notification, Recipient

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make_incident(**kw: Any) -> IncidentView:
    base = IncidentView(
        id=42,
        service="db",
        summary="DB down",
        severity="critical",
        status="triggered",
        dedup_key="db-down",
        created_at=T0,
        source="db-1",
        details={"host": "db-1"},
        links=({"href": "https://runbooks.example/db", "text": "runbook"},),
        url="https://koban.example/incidents/42",
    )
    return replace(base, **kw)


def make_notification(config: Mapping[str, Any], **kw: Any) -> Notification:
    incident = kw.pop("incident", None) or make_incident()
    return Notification(
        key=kw.pop("key", "inc42-s0-alice-1"),
        kind=kw.pop("kind", "page"),
        incident=incident,
        recipient=kw.pop("recipient", Recipient(address="alice@example.com", person="alice", name="Alice")),
        channel=kw.pop("channel", "test"),
        config=config,
        **kw,
    )


@dataclass
class FakeActions:
    """In-test IncidentActions: records calls, answers like the engine would."""

    calls: list[tuple[int, IncidentAction, str | None, str]] = field(default_factory=list)
    status: str = "triggered"

    async def act(
        self,
        incident_id: int,
        action: IncidentAction,
        *,
        actor: str | None,
        via: str,
        note: str | None = None,
    ) -> ActionResult:
        self.calls.append((incident_id, action, actor, via))
        self.status = {"acknowledge": "acknowledged", "resolve": "resolved"}.get(action, self.status)
        return ActionResult(ok=True, status=self.status, message=f"{action} by {actor}")

    async def record_outcome(
        self, delivery_key: str, outcome: Outcome, *, detail: Mapping[str, Any] | None = None
    ) -> None:
        return None

    async def note(
        self, incident_id: int, kind: str, *, actor: str | None, via: str, data: Mapping[str, Any]
    ) -> None:
        return None
