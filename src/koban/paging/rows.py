"""The rows that cross modules on the way from a claimed delivery to a channel.

A claimed delivery flows worker -> ``delivery.prepare``/``send``/``record_many`` ->
``notifications.build_notification`` -> the links and the Twilio wiring; the incident it shows goes
along with it. Plain dicts at run time (as the driver hands them out, cast once where they are
read), typed here so every module on the path agrees on the keys.

``status`` and ``state`` hold the database's text: compare them with ``Status`` and
``DeliveryState`` members (``==``, not ``is``).
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class ClaimedDelivery(TypedDict):
    """A delivery row as claimed (``delivery.CLAIM_COLUMNS``); a full row read elsewhere has more."""

    id: int
    key: str
    incident_id: int
    kind: str  # page | update
    channel_id: str
    channel_type: str
    person_id: str | None
    step: int
    loop: int
    state: str  # a DeliveryState value
    attempts: int
    provider_ref: str | None
    meta: dict[str, Any]


class IncidentRow(TypedDict):
    """What a notification shows of an incident (``delivery._VIEW_COLUMNS``), and the escalation
    progress when a channel shows who is on call (``delivery._ON_CALL_COLUMNS``, read only then)."""

    id: int
    service_id: str
    incident_key: str
    status: str  # a Status value
    severity: str
    summary: str
    source: str
    details: dict[str, Any]
    labels: dict[str, Any]
    links: list[dict[str, Any]]
    alert_count: int
    created_at: float
    acknowledged_at: float | None
    acknowledged_by: str | None
    acknowledged_via: str | None
    resolved_at: float | None
    plan: NotRequired[dict[str, Any] | None]
    esc_step: NotRequired[int]
    esc_step_started_at: NotRequired[float | None]  # schedule targets: who was on call then
    esc_loop: NotRequired[int]
