"""Builders for the voice tests: settings, notifications, a recording IncidentActions, a served app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from koban.channels.actions import ActionResult, IncidentAction, Outcome
from koban.channels.base import IncidentView, Notification, Recipient
from koban.channels.voice.settings import TwilioSettings
from koban.fakes.twilio import DEFAULT_ACCOUNT_SID

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AUTH_TOKEN = "twilio-auth-token"
SECRET = "token-secret-0123456789"
ALICE, BOB, CAROL = "+15550000001", "+15550000002", "+15550000003"


def make_settings(**kw: Any) -> TwilioSettings:
    base: dict[str, Any] = {
        "account_sid": DEFAULT_ACCOUNT_SID,
        "auth_tokens": (AUTH_TOKEN,),
        "from_number": "+15005550006",
        "public_url": "https://oncall.example",
        "token_secrets": (SECRET,),
        "ring_timeout": 20,
        "gather_timeout": 5,
    }
    base.update(kw)
    return TwilioSettings(**base)


def make_incident(**kw: Any) -> IncidentView:
    base = IncidentView(
        id=42,
        service="db",
        summary="Disk full",
        severity="critical",
        status="triggered",
        dedup_key="db-disk",
        created_at=T0,
        source="db-1",
    )
    return replace(base, **kw)


def make_notification(
    address: str = ALICE, person: str = "alice", language: str = "en-US", **kw: Any
) -> Notification:
    return Notification(
        key=kw.pop("key", f"inc42-s0-{person}-1"),
        kind="page",
        incident=kw.pop("incident", None) or make_incident(),
        recipient=Recipient(address=address, person=person, name=person.title(), language=language),
        channel="voice",
        config=kw.pop("config", {}),
        **kw,
    )


@dataclass
class RecordingActions:
    """IncidentActions that records everything, answering like the engine would."""

    acts: list[tuple[int, IncidentAction, str | None, str]] = field(default_factory=list)
    notes: list[tuple[int, str, str | None, Mapping[str, Any]]] = field(default_factory=list)
    outcomes: list[tuple[str, Outcome, Mapping[str, Any]]] = field(default_factory=list)
    settled: asyncio.Event = field(default_factory=asyncio.Event)

    async def act(
        self,
        incident_id: int,
        action: IncidentAction,
        *,
        actor: str | None,
        via: str,
        note: str | None = None,
    ) -> ActionResult:
        self.acts.append((incident_id, action, actor, via))
        return ActionResult(ok=True, status=str(action), message=f"{action} by {actor}")

    async def record_outcome(
        self, delivery_key: str, outcome: Outcome, *, detail: Mapping[str, Any] | None = None
    ) -> None:
        self.outcomes.append((delivery_key, outcome, dict(detail or {})))
        self.settled.set()

    async def note(
        self, incident_id: int, kind: str, *, actor: str | None, via: str, data: Mapping[str, Any]
    ) -> None:
        self.notes.append((incident_id, kind, actor, dict(data)))

    def kinds(self) -> list[str]:
        return [kind for _, kind, _, _ in self.notes]


@asynccontextmanager
async def serve(routes: list[Route]) -> AsyncIterator[str]:
    """Serve Starlette routes on a free loopback port; yields the base URL."""
    config = uvicorn.Config(
        Starlette(routes=routes), host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
