"""The one interface every outbound channel implements.

``send`` is called by the delivery worker after the delivery row is durably marked ``sending``.
It must classify the vendor's answer at the edge:

- ``SENT``: the vendor accepted it. ``awaits_outcome`` says whether a later callback decides
  whether a human was reached (phone calls); otherwise SENT counts as reached.
- ``TRANSIENT``: not delivered, safe to retry (429, 5xx, connection refused before sending).
  ``retry_after`` honours the vendor's hint.
- ``PERMANENT``: will never work as configured (bad number, archived channel, revoked token).
  The escalation moves on; ``error`` is shown to people.
- ``IN_DOUBT``: the request may or may not have reached the vendor (timeout after sending).

``reconcile`` settles a delivery found ``sending`` after a crash or an IN_DOUBT answer: channels that
can ask the vendor (Twilio: look the call up by our delivery key) answer SENT or NOT_SENT; channels
that send an idempotency key may simply send again with the same key.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class DeliveryStatus(enum.StrEnum):
    SENT = "sent"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    IN_DOUBT = "in_doubt"
    NOT_SENT = "not_sent"  # only from reconcile: definitely never left, safe to send again


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    status: DeliveryStatus
    provider_ref: str | None = None
    error: str | None = None
    retry_after: float | None = None
    awaits_outcome: bool = False
    # Channel-specific facts to keep on the delivery row (e.g. Slack channel id + ts for chat.update).
    meta: Mapping[str, Any] = field(default_factory=dict)
    # PERMANENT for the channel as a whole (archived channel, revoked token), not just this recipient:
    # koban marks the channel broken (shown in the API) and skips it until its config changes.
    channel_broken: bool = False

    @classmethod
    def sent(cls, provider_ref: str | None = None, **kw: Any) -> DeliveryResult:
        return cls(DeliveryStatus.SENT, provider_ref=provider_ref, **kw)

    @classmethod
    def transient(cls, error: str, retry_after: float | None = None) -> DeliveryResult:
        return cls(DeliveryStatus.TRANSIENT, error=error, retry_after=retry_after)

    @classmethod
    def permanent(cls, error: str) -> DeliveryResult:
        return cls(DeliveryStatus.PERMANENT, error=error)

    @classmethod
    def broken(cls, error: str) -> DeliveryResult:
        return cls(DeliveryStatus.PERMANENT, error=error, channel_broken=True)

    @classmethod
    def in_doubt(cls, error: str) -> DeliveryResult:
        return cls(DeliveryStatus.IN_DOUBT, error=error)


@dataclass(frozen=True, slots=True)
class IncidentView:
    """What a channel may say about an incident (a read-only snapshot)."""

    id: int
    service: str
    summary: str
    severity: str
    status: str
    dedup_key: str
    created_at: datetime
    source: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    links: tuple[Mapping[str, str], ...] = ()
    url: str = ""
    step: int = 0  # where the escalation stood when the message was made (replay-safe buttons)
    loop: int = 0
    acknowledged_by: str | None = None
    acknowledged_via: str | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    alert_count: int = 1


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who (or where) a notification goes: a person's contact, or a team channel."""

    address: str
    person: str | None = None
    name: str = ""
    language: str = "en-US"
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to send. ``key`` is unique per (incident, step, target, attempt) and is the
    idempotency key on the wire; ``kind`` is ``page`` for escalation notifications and ``update``
    for lifecycle updates of an earlier message (Slack chat.update, PagerDuty resolve)."""

    key: str
    kind: str
    incident: IncidentView
    recipient: Recipient
    channel: str
    config: Mapping[str, Any]
    step: int = 0
    loop: int = 0
    links: Mapping[str, str] = field(default_factory=dict)
    # Facts a previous delivery of the same channel stored (e.g. Slack ts) for updates in place.
    previous: Mapping[str, Any] = field(default_factory=dict)


class Channel(Protocol):
    # Read-only, so a class constant and a wrapper's per-instance kind (PhoneChannel) both satisfy it.
    @property
    def kind(self) -> str: ...

    async def send(self, notification: Notification) -> DeliveryResult: ...

    async def reconcile(self, notification: Notification, provider_ref: str | None) -> DeliveryResult:
        """Settle an in-doubt delivery. Default for idempotent channels: send again with the same key."""
        ...
