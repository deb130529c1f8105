"""Small builders shared by the channel tests (alice, bob, carol)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

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
