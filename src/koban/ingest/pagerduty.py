"""``POST /v2/enqueue``: PagerDuty's Events API v2, so any tool that pages PagerDuty pages koban
by changing the host.

The body's ``routing_key`` is a koban integration key (any integration: the endpoint, not the
integration's type, says the body is a PagerDuty event). Answers in PagerDuty's own shapes, which
its clients parse: 202 ``{status, message, dedup_key}``; 400 ``{status: "invalid event", message,
errors: [...]}`` (Zabbix's media type shows ``errors[0]``), the event committed to the inbox
(``ingest/inbox.py``) before the 202; 429 with ``Retry-After`` when the
integration is over its limits (clients retry); 413 over the size limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from starlette.datastructures import Headers
from starlette.routing import Route
from starlette.types import Receive, Scope

from koban.db.schema_changes import change_events
from koban.ingest.deps import IngestDeps
from koban.ingest.inbox import Delivery
from koban.ingest.limits import RateLimited
from koban.ingest.routes import Endpoint, Reply, inbound, limits_of, read_body, too_many
from koban.sources.base import PayloadError
from koban.sources.json_body import parse_json
from koban.sources.pagerduty import PagerDutyEventError, PagerDutySource, accepted_body, invalid_body
from koban.sources.pagerduty_change import accepted_change_body, parse_change

# What PagerDuty answers when throttling (its docs leave the body open; this is what it sends).
THROTTLED = {
    "status": "throttle event",
    "message": "Requests for this service are arriving too quickly.  Please retry later.",
}


def _invalid(*errors: str) -> Reply:
    return 400, invalid_body(list(errors)), None


class Keyed(NamedTuple):
    body: bytes
    data: Mapping[str, Any]
    integ: Any  # the integration the routing key names
    now: float


async def _keyed(deps: IngestDeps, scope: Scope, receive: Receive) -> Keyed | Reply:
    """The body, read and parsed, and the integration its ``routing_key`` names; or the answer
    PagerDuty gives when there is none (both enqueue endpoints read events this way)."""
    body = await read_body(scope, receive, deps.settings.max_body_bytes)
    if isinstance(body, tuple):
        return body
    try:
        data = parse_json(body)
    except PayloadError as exc:
        return _invalid(exc.message)
    if not isinstance(data, Mapping):
        return _invalid("Event object is not a JSON object")
    routing_key = data.get("routing_key")
    if not isinstance(routing_key, str) or not routing_key.strip():
        deps.metrics.reject("pagerduty", "no key")
        return _invalid("'routing_key' is missing or blank")
    now = deps.clock.now()
    integ = deps.catalog.integration_for_key(routing_key.strip(), now)
    if integ is None:
        deps.metrics.reject("pagerduty", "bad key")
        return _invalid("'routing_key' is not a known integration key")
    return Keyed(body, data, integ, now)


class Enqueue(Endpoint):
    source = PagerDutySource()

    async def handle(self, scope: Scope, receive: Receive) -> Reply:
        keyed = await _keyed(self.deps, scope, receive)
        if not isinstance(keyed, Keyed):
            return keyed
        deps, (body, data, integ, now) = self.deps, keyed
        try:
            events = self.source.parse(inbound(scope, Headers(scope=scope), body, data, now), integ.settings)
        except PagerDutyEventError as exc:
            deps.metrics.reject("pagerduty", "payload")
            return 400, exc.as_dict(), None
        try:
            # The answer carries only the dedup key (derived from the body when absent, so the
            # drain derives the same one): commit to the inbox, the worker makes the incident.
            delivery = Delivery(integ.id, "pagerduty", now, len(events), body)
            await deps.inbox.submit(delivery, limits_of(integ))
        except RateLimited as exc:
            deps.metrics.reject("pagerduty", exc.kind)
            return too_many(exc, THROTTLED)
        deps.metrics.alert("pagerduty", len(events))
        return 202, accepted_body(events[0].dedup_key), None


class ChangeEnqueue(Endpoint):
    """``POST /v2/change/enqueue``: a change event, stored on its service's recent changes (it pages
    nobody, so it is written straight away rather than through the alert inbox)."""

    async def handle(self, scope: Scope, receive: Receive) -> Reply:
        keyed = await _keyed(self.deps, scope, receive)
        if not isinstance(keyed, Keyed):
            return keyed
        deps, (_, data, integ, now) = self.deps, keyed
        change = parse_change(data, datetime.fromtimestamp(now, UTC))
        if isinstance(change, list):
            deps.metrics.reject("pagerduty", "payload")
            return _invalid(*change)
        row = {
            "service_id": deps.catalog.integration_service[integ.id],
            "integration_id": integ.id,
            "summary": change.summary,
            "source": change.source,
            "at": change.at,
            "received_at": now,
            "custom_details": dict(change.custom_details),
            "links": [dict(x) for x in change.links],
        }
        async with deps.db.begin() as conn:
            await conn.execute(sa.insert(change_events).values(row))
        return 202, accepted_change_body(), None


def enqueue_routes(deps: IngestDeps) -> list[Route]:
    return [
        Route("/v2/enqueue", Enqueue(deps), methods=["POST"]),
        Route("/v2/change/enqueue", ChangeEnqueue(deps), methods=["POST"]),
    ]


def enqueue_openapi() -> dict[str, Any]:
    """The hand-written OpenAPI operation (the route bypasses FastAPI)."""
    shape = {"type": "object", "properties": {"status": {"type": "string"}, "message": {"type": "string"}}}
    return {
        "post": {
            "tags": ["ingest"],
            "operationId": "pagerduty_events_v2_enqueue",
            "summary": "PagerDuty Events API v2 compatible: routing_key is a koban integration key",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["routing_key", "event_action"],
                            "properties": {
                                "routing_key": {"type": "string"},
                                "event_action": {
                                    "type": "string",
                                    "enum": ["trigger", "acknowledge", "resolve"],
                                },
                                "dedup_key": {"type": "string", "maxLength": 255},
                                "payload": {"type": "object"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "202": {
                    "description": "Event processed; dedup_key echoed or generated",
                    "content": _c(shape),
                },
                "400": {"description": "Invalid event; errors lists every problem", "content": _c(shape)},
                "413": {"description": "Body over the size limit"},
                "429": {
                    "description": "Over the integration's limits; see Retry-After",
                    "content": _c(shape),
                },
            },
            "security": [],
        }
    }


def _c(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}
