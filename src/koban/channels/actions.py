"""The port through which channels act back on incidents (keypad, SMS reply, Slack button, signed link).

Every path lands in the same lifecycle function with the same timeline entry shape, so channels never
write core tables themselves: they call this protocol, implemented by ``koban.paging.actions``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from koban.core.i18n import Said


class IncidentAction(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    ESCALATE = "escalate"  # pass to the next step / person now


class Outcome(enum.StrEnum):
    """How a delivery that awaited an outcome ended (phone calls)."""

    REACHED = "reached"  # a human answered (and may have pressed nothing)
    NOT_REACHED = "not_reached"  # busy, no-answer, failed, canceled, machine, no key pressed


@dataclass(frozen=True, slots=True)
class ActionResult:
    ok: bool
    status: str  # the incident's status after the call
    message: str  # English, as the timeline and the audit trail keep it ("already acknowledged by bob")
    # The same words as an id and its values, for the person's own language (None: only English).
    said: Said | None = None

    def text(self, lang: str | None) -> str:
        """What the person reads or hears, in their ``language`` (safe to show/say)."""
        return self.said.text(lang) if self.said is not None else self.message


class IncidentActions(Protocol):
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
        """Apply a lifecycle action. ``actor`` is a person key (None when unknown); ``via`` names the
        path (``voice``, ``sms``, ``slack``, ``link``, ``api``, ``cli``); ``seen`` is the (step, loop)
        the person was shown: an escalation from a state that has moved on is refused (a replayed
        or late click)."""
        ...

    async def refuse(
        self, incident_id: int, action: IncidentAction, *, actor: str | None, via: str, reason: Said
    ) -> ActionResult:
        """Record an action the door itself refused (a link already used, a replayed key press or
        SMS) on the timeline and the audit trail; the answer says why and where the incident stands."""
        ...

    async def record_outcome(
        self, delivery_key: str, outcome: Outcome, *, detail: Mapping[str, Any] | None = None
    ) -> None:
        """Settle a delivery that awaited an outcome; NOT_REACHED moves the escalation on."""
        ...

    async def note(
        self, incident_id: int, kind: str, *, actor: str | None, via: str, data: Mapping[str, Any]
    ) -> None:
        """Add a timeline entry (e.g. ``call.ringing``, ``key.pressed``)."""
        ...
