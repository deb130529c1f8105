"""Inbound alert routes, kept off FastAPI's per-request machinery because they are the hot path.

The integration key names the integration; its type picks the parser (koban.sources.registry).
Answers: 202 once the alerts are committed (with the incident ids for generic JSON; the queued
sources' bodies go to the inbox, ``engine/inbox.py``, and the worker makes the incidents); 401
unknown key; 400/422 naming
the problem; 413 over the size limit; 429 with ``Retry-After`` over the integration's limits. A
body that parsed is never lost: it is committed or refused. The key may sit in the URL path for
tools that cannot set headers: ``/api/v1/ingest/<key>`` (any source type), and
``/api/v1/ingest/<key>/api/v2/alerts`` for Prometheus' ``path_prefix``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from koban.api.auth import key_from_headers
from koban.engine.inbox import Delivery
from koban.engine.kernel import Kernel
from koban.engine.limits import RateLimited
from koban.sources.base import InboundRequest, PayloadError
from koban.sources.json_body import parse_json
from koban.sources.registry import QUEUED_KINDS, get_source

log = logging.getLogger("koban.ingest")


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


async def read_body(request: Request, limit: int) -> bytes | Response:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return _json(413, {"error": f"body is larger than the {limit}-byte limit"})
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return _json(413, {"error": f"body is larger than the {limit}-byte limit"})
        chunks.append(chunk)
    return b"".join(chunks)


def too_many(exc: RateLimited, body: Any | None = None) -> Response:
    headers = {"Retry-After": str(exc.retry_after)}
    return _json(429, body or {"error": exc.reason, "retry_after": exc.retry_after}, headers)


async def accept(k: Kernel, integration_id: str, inbound: InboundRequest) -> Response:
    integ = k.catalog.integrations[integration_id]
    try:
        events = get_source(integ.type).parse(inbound, integ.settings)
    except PayloadError as exc:
        k.metrics.reject(integ.type, "payload")
        return _json(exc.status, exc.as_dict())
    if not events:
        return _json(202, {"status": "accepted", "alerts": 0, "incidents": []})
    limits = integ.limits and integ.limits.as_limits()
    if integ.type in QUEUED_KINDS:
        delivery = Delivery(
            integration_id, integ.type, inbound.received_at.timestamp(), len(events), inbound.body
        )
        try:
            await k.inbox.submit(delivery, limits)
        except RateLimited as exc:
            k.metrics.reject(integ.type, "rate limit")
            return too_many(exc)
        k.metrics.alert(integ.type, len(events))
        return _json(202, {"status": "accepted", "alerts": len(events)})
    try:
        outcomes = await k.batcher.submit(integration_id, events, limits)
    except RateLimited as exc:
        k.metrics.reject(integ.type, "rate limit")
        return too_many(exc)
    k.metrics.alert(integ.type, len(events))
    return _json(
        202,
        {
            "status": "accepted",
            "alerts": len(events),
            "incidents": [
                {
                    "dedup_key": e.dedup_key,
                    "incident_id": o.incident_id,
                    "status": o.status,
                    **({"note": o.ignored} if o.ignored else {}),
                }
                for e, o in zip(events, outcomes, strict=True)
            ],
        },
    )


def _inbound(request: Request, body: bytes, data: Any, now: float) -> InboundRequest:
    return InboundRequest(
        body=body,
        json=data,
        headers=request.headers,
        query=request.query_params,
        received_at=datetime.fromtimestamp(now, UTC),
        path_params=request.path_params,
    )


def ingest_routes(k: Kernel) -> list[Route]:
    async def ingest(request: Request) -> Response:
        key = request.path_params.get("key") or key_from_headers(request.headers)
        if not key:
            k.metrics.reject("unknown", "no key")
            return _json(
                401,
                {
                    "error": "no integration key: use Authorization: Bearer <key>, "
                    "X-Api-Key, basic auth, or /api/v1/ingest/<key>"
                },
            )
        integ = k.catalog.integration_for_key(key, k.clock.now())
        if integ is None:
            k.metrics.reject("unknown", "bad key")
            return _json(401, {"error": "unknown integration key"})
        body = await read_body(request, k.settings.max_body_bytes)
        if isinstance(body, Response):
            return body
        try:
            data = parse_json(body)
        except PayloadError as exc:
            return _json(exc.status, exc.as_dict())
        return await accept(k, integ.id, _inbound(request, body, data, k.clock.now()))

    return [
        Route("/api/v1/ingest", ingest, methods=["POST"]),
        Route("/api/v1/ingest/{key}", ingest, methods=["POST"]),
        Route("/api/v1/ingest/{key}/api/v2/alerts", ingest, methods=["POST"]),
        # Prometheus/Alertmanager-compatible push: Prometheus can name koban as its Alertmanager.
        Route("/api/v2/alerts", ingest, methods=["POST"]),
    ]
