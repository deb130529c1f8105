"""One recording IncidentActions for every channel test (Slack, links, voice, SMS).

It answers like the engine would (the status moves on acknowledge and resolve) and keeps what it
was asked, so a test asserts on ``calls``, ``notes`` and ``outcomes``; ``settled`` is set by the
first recorded outcome, for tests that wait on a call to finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from koban.channels.actions import ActionResult, IncidentAction, Outcome
from koban.core.i18n import Said

_STATUS_AFTER = {IncidentAction.ACKNOWLEDGE: "acknowledged", IncidentAction.RESOLVE: "resolved"}


@dataclass
class RecordingActions:
    calls: list[tuple[int, IncidentAction, str | None, str]] = field(default_factory=list)
    notes: list[tuple[int, str, str | None, Mapping[str, Any]]] = field(default_factory=list)
    outcomes: list[tuple[str, Outcome, Mapping[str, Any]]] = field(default_factory=list)
    refused: list[tuple[int, IncidentAction, str | None, str, str]] = field(default_factory=list)
    seen: list[tuple[int, int] | None] = field(default_factory=list)  # what each act() named
    status: str = "triggered"
    settled: asyncio.Event = field(default_factory=asyncio.Event)

    async def act(
        self,
        incident_id: int,
        action: IncidentAction,
        *,
        actor: str | None,
        via: str,
        note: str | None = None,
        seen: tuple[int, int] | None = None,
    ) -> ActionResult:
        self.calls.append((incident_id, action, actor, via))
        self.seen.append(seen)
        self.status = _STATUS_AFTER.get(IncidentAction(action), self.status)
        return ActionResult(ok=True, status=self.status, message=f"{action} by {actor}")

    async def refuse(
        self, incident_id: int, action: IncidentAction, *, actor: str | None, via: str, reason: Said
    ) -> ActionResult:
        self.refused.append((incident_id, action, actor, via, str(reason)))
        return ActionResult(ok=False, status=self.status, message=f"{reason}; incident is {self.status}")

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
