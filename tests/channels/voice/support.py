"""Builders for the voice tests: settings, notifications, a recording IncidentActions, a served app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

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
        kind=kw.pop("kind", "page"),
        incident=kw.pop("incident", None) or make_incident(),
        recipient=Recipient(address=address, person=person, name=person.title(), language=language),
        channel="voice",
        config=kw.pop("config", {}),
        **kw,
    )


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
