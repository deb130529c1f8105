"""PagerDuty Events API v2 compatible ingest (``POST /v2/enqueue`` body), so anything that can page
PagerDuty (Zabbix's stock media type, Sentry, Datadog...) can page us by changing the URL.

The ``routing_key`` authenticates and is checked by the edge, not here. When a trigger has no
``dedup_key`` PagerDuty generates a random UUID; we derive a UUID from the body instead, so a
client retrying the same request (after a timeout, say) dedups onto the same alert rather than
opening a second one. Validation collects every problem, as PagerDuty does, into ``errors``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from koban.domain.alerts import AlertAction, AlertEvent, Severity
from koban.sources import _fields as f
from koban.sources.base import InboundRequest, PayloadError

_ACTIONS = {a.value: a for a in AlertAction}
_SEVERITIES = {s.value: s for s in Severity}
# Fixed namespace: the derived key must be the same on every koban instance.
_DEDUP_NAMESPACE = uuid.UUID("6f0e5bd4-3f52-4a55-9c55-2f7c1b3f6a10")
DEDUP_KEY_MAX = 255
SUMMARY_MAX = 1024


class PagerDutyEventError(PayloadError):
    """400 with PagerDuty's body, so PagerDuty clients log the reason they already understand."""

    def __init__(self, errors: list[str], field: str | None = None) -> None:
        super().__init__("; ".join(errors), field, status=400)
        self.errors = errors

    def as_dict(self) -> dict[str, Any]:
        return invalid_body(self.errors)


def accepted_body(dedup_key: str) -> dict[str, Any]:
    """202 body."""
    return {"status": "success", "message": "Event processed", "dedup_key": dedup_key}


def invalid_body(errors: list[str]) -> dict[str, Any]:
    """400 body."""
    return {"status": "invalid event", "message": "Event object is invalid", "errors": list(errors)}


def derived_dedup_key(body: Mapping[str, Any]) -> str:
    """UUID-shaped key from the canonical JSON of the body (routing key included: its scope)."""
    return str(uuid.uuid5(_DEDUP_NAMESPACE, f.stable_hash(body, 64)))


class PagerDutySource:
    kind: ClassVar[str] = "pagerduty"

    def parse(self, request: InboundRequest, settings: Mapping[str, Any]) -> list[AlertEvent]:
        if not isinstance(request.json, Mapping):
            raise PagerDutyEventError(["Event object is not a JSON object"])
        return [parse_event(request.json)]


def parse_event(body: Mapping[str, Any]) -> AlertEvent:
    errors: list[tuple[str, str]] = []  # (message, field)
    raw_action = body.get("event_action")
    # Only a string can name an action (a list or object here is unhashable, and wrong).
    action = _ACTIONS.get(raw_action) if isinstance(raw_action, str) else None
    if body.get("event_action") in (None, ""):
        errors.append(("'event_action' is missing or blank", "event_action"))
    elif action is None:
        errors.append(("'event_action' is invalid (must be trigger, acknowledge or resolve)", "event_action"))
    dedup_key = body.get("dedup_key")
    if dedup_key is not None and not isinstance(dedup_key, str):
        errors.append(("'dedup_key' must be a string", "dedup_key"))
    elif dedup_key and len(dedup_key) > DEDUP_KEY_MAX:
        errors.append(("Length of 'dedup_key' is incorrect (should be at most 255 characters)", "dedup_key"))
    elif not dedup_key and action in (AlertAction.ACKNOWLEDGE, AlertAction.RESOLVE):
        errors.append(("'dedup_key' is missing or blank", "dedup_key"))
    payload = body.get("payload")
    if action is AlertAction.TRIGGER:
        errors += _check_trigger_payload(payload)
    errors += _check_links(body)
    if errors:
        raise PagerDutyEventError([m for m, _ in errors], errors[0][1])
    payload = payload if isinstance(payload, Mapping) else {}
    assert action is not None
    return _event(body, payload, action, dedup_key or derived_dedup_key(body))


def _check_trigger_payload(payload: Any) -> list[tuple[str, str]]:
    if not isinstance(payload, Mapping):
        return [("'payload' is missing or blank", "payload")]
    errors = []
    for name in ("summary", "source", "severity"):
        value = payload.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors.append((f"'payload.{name}' is missing or blank", f"payload.{name}"))
        elif not isinstance(value, str):
            errors.append((f"'payload.{name}' must be a string", f"payload.{name}"))
    severity = payload.get("severity")
    if isinstance(severity, str) and severity.strip() and severity not in _SEVERITIES:
        errors.append(
            ("'payload.severity' is invalid (must be critical, error, warning or info)", "payload.severity")
        )
    try:
        f.parse_time(payload.get("timestamp"), "payload.timestamp")
    except PayloadError:
        errors.append(("'payload.timestamp' is invalid (must be ISO 8601)", "payload.timestamp"))
    details = payload.get("custom_details")
    if details is not None and not isinstance(details, Mapping | str | list | int | float | bool):
        errors.append(("'payload.custom_details' is invalid", "payload.custom_details"))
    return errors


def _check_links(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    errors = []
    for name, required in (("links", "href"), ("images", "src")):
        items = body.get(name)
        if items is None:
            continue
        if not isinstance(items, list):
            errors.append((f"'{name}' must be an array", name))
            continue
        for i, item in enumerate(items):
            if not isinstance(item, Mapping) or not isinstance(item.get(required), str):
                errors.append((f"'{name}[{i}].{required}' is missing or blank", f"{name}[{i}].{required}"))
    return errors


def _event(
    body: Mapping[str, Any], payload: Mapping[str, Any], action: AlertAction, dedup_key: str
) -> AlertEvent:
    links = [{"href": x["href"], "text": str(x.get("text") or x["href"])} for x in body.get("links") or []]
    if isinstance(body.get("client_url"), str):
        links.append({"href": body["client_url"], "text": str(body.get("client") or "Source")})
    labels = {k: str(payload[k]) for k in ("component", "group", "class") if payload.get(k)}
    details: dict[str, Any] = {"custom_details": payload.get("custom_details")}
    details.update({k: body[k] for k in ("client", "images") if body.get(k)})
    return AlertEvent(
        dedup_key=dedup_key,
        action=action,
        severity=_SEVERITIES.get(str(payload.get("severity")), Severity.CRITICAL),
        # PagerDuty truncates rather than rejects an over-long summary; so do we.
        summary=str(payload.get("summary") or "")[:SUMMARY_MAX],
        source=str(payload.get("source") or ""),
        details=details,
        labels=labels,
        links=tuple(links),
        occurred_at=f.parse_time(payload.get("timestamp"), "payload.timestamp"),
    )
