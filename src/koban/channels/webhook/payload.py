"""The webhook body: a documented default JSON shape, or a user template run in Jinja2's sandbox.

The template receives the same data as the default shape (``incident``, ``kind``, ``delivery_key``,
``recipient``, ``links``, ``step``, ``loop``) and must render valid JSON; use ``|tojson`` for values.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from koban.channels.base import IncidentView, Notification

SCHEMA_VERSION = 1

# One environment for all templates: the sandbox blocks attribute access to internals, and the
# immutable variant stops templates from mutating the data they are given.
_ENV = ImmutableSandboxedEnvironment(autoescape=False)


class TemplateProblem(ValueError):
    """The user's template cannot produce a body; the delivery fails permanently with this message."""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def incident_dict(incident: IncidentView) -> dict[str, Any]:
    return {
        "id": incident.id,
        "service": incident.service,
        "summary": incident.summary,
        "severity": incident.severity,
        "status": incident.status,
        "dedup_key": incident.dedup_key,
        "created_at": _iso(incident.created_at),
        "source": incident.source,
        "details": dict(incident.details),
        "labels": dict(incident.labels),
        "links": [dict(link) for link in incident.links],
        "url": incident.url,
        "acknowledged_by": incident.acknowledged_by,
        "acknowledged_via": incident.acknowledged_via,
        "acknowledged_at": _iso(incident.acknowledged_at),
        "resolved_at": _iso(incident.resolved_at),
        "alert_count": incident.alert_count,
    }


def default_body(n: Notification) -> dict[str, Any]:
    """The default JSON shape (documented in docs/integrations/webhook.md)."""
    return {
        "version": SCHEMA_VERSION,
        "kind": n.kind,
        "delivery_key": n.key,
        "step": n.step,
        "loop": n.loop,
        "incident": incident_dict(n.incident),
        "recipient": {"person": n.recipient.person, "name": n.recipient.name},
        "links": dict(n.links),
    }


def render_body(n: Notification, template: str | None) -> bytes:
    data = default_body(n)
    if not template:
        return json.dumps(data, separators=(",", ":"), default=str).encode("utf-8")
    try:
        text = _ENV.from_string(template).render(**data)
    except TemplateError as exc:  # SecurityError is a TemplateError too
        raise TemplateProblem(f"webhook template failed: {exc}") from exc
    try:
        json.loads(text)
    except ValueError as exc:
        raise TemplateProblem(f"webhook template did not render valid JSON: {exc}") from exc
    return text.encode("utf-8")
