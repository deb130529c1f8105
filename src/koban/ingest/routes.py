"""Inbound alert routes: plain ASGI endpoints, kept off FastAPI's per-request machinery (the hot path).

The integration key names the integration; its type picks the parser (koban.sources.registry).
Answers: 202 once the alerts are committed (generic JSON: with the incident ids; the queued
sources' bodies go to the inbox, ``ingest/inbox.py``, and the worker makes the incidents); 401
unknown key; 400/422 naming the problem; 413 over the size limit; 429 with ``Retry-After`` over the
integration's limits. A body that parsed is never lost: it is committed or refused. The key may sit
in the URL path for tools that cannot set headers: ``/api/v1/ingest/<key>`` (any source type), and
``/api/v1/ingest/<key>/api/v2/alerts`` for Prometheus' ``path_prefix``.

``ingest/edge.py`` sends POSTs on these paths straight here; the Starlette routes below serve
the rest (405 for other methods) and the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.datastructures import Headers, QueryParams
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from koban.config.model import Integration
from koban.ingest.deps import IngestDeps
from koban.ingest.inbox import Delivery
from koban.ingest.key_auth import key_from_headers
from koban.ingest.limits import RateLimited
from koban.ingest.novelty import RecentAlerts
from koban.routing.ratelimit import Limits
from koban.sources.base import InboundRequest, PayloadError
from koban.sources.json_body import parse_json
from koban.sources.registry import QUEUED_KINDS, get_source

log = logging.getLogger("koban.ingest")

# (status, JSON-able body, extra headers)
Reply = tuple[int, Any, Mapping[str, str] | None]
Counted = Callable[[str, int], None]
_JSON = (b"content-type", b"application/json")


def problem(message: str, **extra: Any) -> dict[str, Any]:
    """An error answer in koban's one shape (``api/errors.py``): ``detail``, and ``error`` with the
    same text for the senders' scripts written when ingest answered only that."""
    return {"detail": message, "error": message, **extra}


_INTERNAL = orjson.dumps(problem("internal error; see the server log"))


def reply(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Reply:
    return status, body, headers


class Endpoint:
    """An ASGI app around ``handle(scope, receive) -> Reply``; an unexpected error is a logged 500."""

    def __init__(self, deps: IngestDeps) -> None:
        self.deps = deps

    async def handle(self, scope: Scope, receive: Receive) -> Reply:
        raise NotImplementedError

    async def answer(self, scope: Scope, receive: Receive) -> Answer:
        try:
            return encode(*await self.handle(scope, receive))
        except Exception as exc:
            return failed(exc, scope.get("path"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status, headers, payload = await self.answer(scope, receive)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


# (status, headers, body bytes): a reply as it goes on the wire
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


def encode(status: int, body: Any, extra: Mapping[str, str] | None) -> Answer:
    try:
        payload = orjson.dumps(body)
    except Exception as exc:
        return failed(exc, None)
    headers = [_JSON, (b"content-length", str(len(payload)).encode())]
    if extra:
        headers += [(name.lower().encode(), value.encode()) for name, value in extra.items()]
    return status, headers, payload


def failed(exc: Exception, path: str | None) -> Answer:
    """An error out of a handler: OverflowError is the client's 422, anything else a logged 500."""
    if isinstance(exc, OverflowError):
        # As the app's handler says it: a number past what the database stores is the client's.
        payload = orjson.dumps(problem(f"a number in the request is out of range: {exc}"))
        return 422, [_JSON, (b"content-length", str(len(payload)).encode())], payload
    log.error("unhandled error on POST %s", path, exc_info=exc)
    return 500, [_JSON, (b"content-length", str(len(_INTERNAL)).encode())], _INTERNAL


def too_large(limit: int) -> Reply:
    return 413, problem(f"body is larger than the {limit}-byte limit"), None


async def read_body(
    scope: Scope, receive: Receive, limit: int, declared: bytes | None = None
) -> bytes | Reply:
    """The body, or 413 over ``limit`` (before reading when Content-Length says so; ``declared``:
    that header when the caller has already looked)."""
    if declared is None:
        declared = next((v for n, v in scope["headers"] if n == b"content-length"), None)
    if declared and declared.isdigit() and int(declared) > limit:
        return too_large(limit)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: nobody reads the answer
            return 400, problem("the request body did not arrive"), None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def limits_of(integ: Integration) -> Limits | None:
    """The integration's rate limits, or None when it sets none."""
    return integ.limits.as_limits() if integ.limits is not None else None


def too_many(exc: RateLimited, body: Any | None = None) -> Reply:
    headers = {"Retry-After": str(exc.retry_after)}
    return 429, body or problem(exc.reason, retry_after=exc.retry_after), headers


_NO_QUERY = QueryParams()


def inbound(scope: Scope, headers: Headers, body: bytes, data: Any, now: float) -> InboundRequest:
    query = scope.get("query_string")
    return InboundRequest(
        body=body,
        json=data,
        headers=headers,
        query=QueryParams(query) if query else _NO_QUERY,
        received_at=datetime.fromtimestamp(now, UTC),
        path_params=scope.get("path_params") or {},
    )


async def enqueue(
    deps: IngestDeps,
    integ: Integration,
    count: int,
    body: bytes,
    received_at: float,
    counted: Counted | None = None,
    fresh: bool = False,
) -> Reply:
    """Commit a validated delivery of a queued source to the inbox; the worker's drain parses it."""
    if count:
        try:
            delivery = Delivery(integ.id, integ.type, received_at, count, body, fresh)
            await deps.inbox.submit(delivery, limits_of(integ))
        except RateLimited as exc:
            deps.metrics.reject(integ.type, exc.kind)
            return too_many(exc)
        (counted or deps.metrics.alert)(integ.type, count)
    return 202, {"status": "accepted", "alerts": count}, None


async def accept(deps: IngestDeps, integration_id: str, request: InboundRequest) -> Reply:
    integ = deps.catalog.integrations[integration_id]
    source = get_source(integ.type)
    if integ.type in QUEUED_KINDS:
        # Validate only (the full parse names the problem); the drain parses again.
        try:
            count = len(source.parse(request, integ.settings))
        except PayloadError as exc:
            deps.metrics.reject(integ.type, "payload")
            return exc.status, exc.as_dict(), None
        return await enqueue(deps, integ, count, request.body, request.received_at.timestamp())
    limits = limits_of(integ)
    try:
        events = source.parse(request, integ.settings)
    except PayloadError as exc:
        deps.metrics.reject(integ.type, "payload")
        return exc.status, exc.as_dict(), None
    if not events:
        return 202, {"status": "accepted", "alerts": 0, "incidents": []}, None
    try:
        outcomes = await deps.batcher.submit(integration_id, events, limits)
    except RateLimited as exc:
        deps.metrics.reject(integ.type, exc.kind)
        return too_many(exc)
    deps.metrics.alert(integ.type, len(events))
    incidents = [
        {
            "dedup_key": e.dedup_key,
            "incident_id": o.incident_id,
            "status": o.status,
            **({"note": o.ignored} if o.ignored else {}),
        }
        for e, o in zip(events, outcomes, strict=True)
    ]
    return 202, {"status": "accepted", "alerts": len(events), "incidents": incidents}, None


NO_KEY = problem(
    "no integration key: use Authorization: Bearer <key>, X-Api-Key, basic auth, or /api/v1/ingest/<key>"
)
UNKNOWN_KEY = problem("unknown integration key")


def _hot_headers(headers: list[tuple[bytes, bytes]]) -> tuple[dict[str, str], bytes | None]:
    """The headers a key can travel in, and Content-Length: one pass, no full ``Headers``."""
    found: dict[str, str] = {}
    length = None
    for name, value in headers:
        if name == b"content-length":
            length = value
        elif name == b"authorization" or name == b"x-api-key":
            found.setdefault(name.decode(), value.decode("latin-1"))
    return found, length


class Ingest(Endpoint):
    def __init__(self, deps: IngestDeps) -> None:
        super().__init__(deps)
        # Cheap validators of queued sources (e.g. PrometheusSource.check): vouch for a body
        # without building its events; when they cannot, the full parse decides.
        self.checks = {kind: getattr(get_source(kind), "check", None) for kind in QUEUED_KINDS}
        self._alert_counters: dict[str, Any] = {}
        self.recent = RecentAlerts()  # marks deliveries the drain takes first (ingest/novelty.py)

    def counted(self, kind: str, n: int) -> None:
        """``Metrics.alert`` with the labelled child kept (``labels()`` was ~3% per request)."""
        child = self._alert_counters.get(kind)
        if child is None:
            child = self._alert_counters[kind] = self.deps.metrics.alerts.labels(kind)
        child.inc(n)

    async def handle(self, scope: Scope, receive: Receive) -> Reply:
        deps = self.deps
        auth, declared = _hot_headers(scope["headers"])
        key = (scope.get("path_params") or {}).get("key") or key_from_headers(auth)
        if not key:
            deps.metrics.reject("unknown", "no key")
            return 401, NO_KEY, None
        now = deps.clock.now()
        integ = deps.catalog.integration_for_key(key, now)
        if integ is None:
            deps.metrics.reject("unknown", "bad key")
            return 401, UNKNOWN_KEY, None
        body = await read_body(scope, receive, deps.settings.max_body_bytes, declared or b"")
        if isinstance(body, tuple):
            return body
        try:
            data = parse_json(body)
        except PayloadError as exc:
            return exc.status, exc.as_dict(), None
        check = self.checks.get(integ.type)
        count = check(data, integ.settings) if check else None
        if count is not None:
            fresh = bool(count) and self.recent.fresh(integ.type, body, data)
            return await enqueue(deps, integ, count, body, now, self.counted, fresh)
        return await accept(deps, integ.id, inbound(scope, Headers(scope=scope), body, data, now))

    def direct(
        self, params: Mapping[str, str], headers: list[tuple[bytes, bytes]], body: bytes
    ) -> Reply | Pending | None:
        """The common case without a coroutine, for the HTTP protocol's direct path: a known key, a
        body within the limit that the source's cheap check vouches for. Returns the reply, or a
        ``Pending`` commit, or None when anything is unusual: then ``handle`` decides it all again
        (same 4xx, same counters), so this path has no answers of its own to keep in step."""
        deps = self.deps
        try:
            auth, _ = _hot_headers(headers)
            key = params.get("key") or key_from_headers(auth)
            if not key or len(body) > deps.settings.max_body_bytes:
                return None
            now = deps.clock.now()
            integ = deps.catalog.integration_for_key(key, now)
            if integ is None:
                return None
            check = self.checks.get(integ.type)
            if check is None:
                return None
            data = parse_json(body)
            count = check(data, integ.settings)
        except Exception:  # PayloadError and anything else: handle() says it properly
            return None
        if count is None:
            return None
        if not count:
            return 202, {"status": "accepted", "alerts": 0}, None
        limits = limits_of(integ)
        try:
            fresh = self.recent.fresh(integ.type, body, data)
            fut = deps.inbox.submit_nowait(Delivery(integ.id, integ.type, now, count, body, fresh), limits)
        except RateLimited as exc:
            deps.metrics.reject(integ.type, exc.kind)
            return too_many(exc)
        return None if fut is None else Pending(self, fut, integ.type, count)


_ACCEPTED: dict[int, Answer] = {}


class Pending:
    """A direct-path request waiting for its inbox commit; ``reply`` once the future is done."""

    __slots__ = ("endpoint", "fut", "kind", "count")

    def __init__(self, endpoint: Ingest, fut: asyncio.Future[Any], kind: str, count: int) -> None:
        self.endpoint, self.fut, self.kind, self.count = endpoint, fut, kind, count

    def answer(self) -> Answer:
        """``reply`` encoded; the accepted answers' bytes are kept per alert count."""
        status, body, extra = self.reply()
        if status != 202:
            return encode(status, body, extra)
        done = _ACCEPTED.get(self.count)
        if done is None:
            done = encode(status, body, extra)
            if len(_ACCEPTED) < 1000:
                _ACCEPTED[self.count] = done
        return done

    def reply(self) -> Reply:
        refused = self.fut.result()  # the batch's error, if any, raises here
        if refused is not None:
            self.endpoint.deps.metrics.reject(self.kind, refused.kind)
            return too_many(refused)
        self.endpoint.counted(self.kind, self.count)
        return 202, {"status": "accepted", "alerts": self.count}, None


def ingest_routes(deps: IngestDeps) -> list[Route]:
    endpoint = Ingest(deps)
    return [
        Route("/api/v1/ingest", endpoint, methods=["POST"]),
        Route("/api/v1/ingest/{key}", endpoint, methods=["POST"]),
        Route("/api/v1/ingest/{key}/api/v2/alerts", endpoint, methods=["POST"]),
        # Prometheus/Alertmanager-compatible push: Prometheus can name koban as its Alertmanager.
        Route("/api/v2/alerts", endpoint, methods=["POST"]),
    ]
