"""Pure construction of PagerDuty Events API v2 bodies and classification of the answers."""

from __future__ import annotations

import json
from typing import Any

from koban.channels.base import DeliveryResult, Notification
from koban.core.outbound import OutboundResponse

SEVERITIES = ("critical", "error", "warning", "info")
MAX_EVENT_BYTES = 512 * 1024  # PagerDuty refuses larger events (protocols.md §3.1)
MAX_SUMMARY = 1024


def dedup_key(n: Notification) -> str:
    """Stable per incident, so trigger/acknowledge/resolve and every retry land on one PagerDuty alert."""
    return f"koban-{n.incident.id}"


def event_action(n: Notification) -> str:
    status = n.incident.status
    if status == "resolved":
        return "resolve"
    if status == "acknowledged":
        return "acknowledge"
    return "trigger"


def build_event(n: Notification) -> dict[str, Any]:
    config, inc = n.config, n.incident
    event: dict[str, Any] = {
        "routing_key": str(config.get("routing_key", "")),
        "event_action": event_action(n),
        "dedup_key": dedup_key(n),
    }
    if event["event_action"] != "trigger":
        return event  # acknowledge/resolve need only the key
    links = [{"href": inc.url, "text": f"koban incident {inc.id}"}] if inc.url else []
    links += [{"href": link["href"], "text": link.get("text", "")} for link in inc.links if link.get("href")]
    event["payload"] = {
        "summary": inc.summary[:MAX_SUMMARY] or f"koban incident {inc.id}",
        "source": inc.source or inc.service,
        "severity": inc.severity if inc.severity in SEVERITIES else "critical",
        "timestamp": inc.created_at.isoformat(),
        "component": inc.service,
        "custom_details": {**dict(inc.details), **({"labels": dict(inc.labels)} if inc.labels else {})},
    }
    event["links"] = links
    event["client"] = str(config.get("client", "koban"))
    if inc.url:
        event["client_url"] = inc.url
    return _fit(event)


def _fit(event: dict[str, Any]) -> dict[str, Any]:
    """An event over PagerDuty's size limit loses its custom details (the part that can be large),
    saying so, rather than being refused: the page matters more than the details."""
    size = len(json.dumps(event).encode())
    if size <= MAX_EVENT_BYTES:
        return event
    note = f"custom details left out: the event was {size} bytes, over PagerDuty's 512 KB limit"
    return {**event, "payload": {**event["payload"], "custom_details": {"koban": note}}}


def classify(resp: OutboundResponse) -> DeliveryResult:
    if resp.status == 202:
        return DeliveryResult.sent(_json(resp).get("dedup_key"))
    if resp.status == 429 or resp.status >= 500:
        return DeliveryResult.transient(f"pagerduty: HTTP {resp.status}", resp.retry_after())
    errors = _json(resp).get("errors") or []
    detail = errors[0] if errors else (resp.text[:200] or f"HTTP {resp.status}")
    return DeliveryResult.permanent(f"pagerduty rejected the event: {detail}")


def _json(resp: OutboundResponse) -> dict[str, Any]:
    try:
        data = json.loads(resp.body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
