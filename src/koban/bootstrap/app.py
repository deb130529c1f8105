"""The ASGI application: REST API + ingest routes + health and metrics, around one System."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from koban import __version__
from koban.api import (
    audit,
    calendar_feeds,
    calendars,
    changes,
    config_apply,
    incidents,
    logs,
    me,
    monitors,
    objects,
    public_updates,
    reports,
    schedule_swaps,
    schedules,
    sso,
    tokens,
    users,
)
from koban.api.errors import error_body
from koban.auth.guard import public
from koban.bootstrap import error_handlers
from koban.bootstrap.mounts import integration_routes
from koban.bootstrap.openapi_access import document_access
from koban.bootstrap.openapi_callbacks import document_callbacks
from koban.bootstrap.openapi_content import document_content
from koban.bootstrap.openapi_errors import document_errors
from koban.bootstrap.system import System
from koban.ingest.edge import IngestEdge
from koban.ingest.keys import router as ingest_keys_router
from koban.ingest.pagerduty import Enqueue, enqueue_openapi, enqueue_routes
from koban.ingest.routes import Ingest, ingest_routes
from koban.web import pages as web_pages
from koban.web.headers import SecurityHeaders

log = logging.getLogger("koban.api")


class BodyLimit:
    """413 before reading a declared-oversize body, for every route."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                    resp = JSONResponse(error_body(f"body is larger than the {self.limit}-byte limit"), 413)
                    await resp(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def create_app(
    system: System, *, start_worker: bool = True, manage_system: bool = True, migrate: bool = True
) -> KobanApp:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage_system:
            await system.start(worker=start_worker, migrate=migrate)
        try:
            yield
        finally:
            if manage_system:
                await system.stop()

    app = KobanApp(
        title="koban",
        version=__version__,
        lifespan=lifespan,
        description="Monitoring and on-call: alerts in, incidents, escalation, notifications out.",
        docs_url=None,  # koban serves /docs itself, from npm's files rather than a CDN (web/api_docs.py)
        redoc_url=None,
    )
    app.state.deps = system.api
    app.include_router(incidents.router)
    app.include_router(public_updates.router)
    app.include_router(changes.router)
    app.include_router(objects.router)
    app.include_router(schedules.router)
    app.include_router(schedule_swaps.router)
    app.include_router(calendar_feeds.router)
    app.include_router(calendars.router)
    app.include_router(logs.router)
    app.include_router(monitors.router)
    app.include_router(reports.router)
    app.include_router(ingest_keys_router)
    app.include_router(audit.router)
    app.include_router(tokens.router)
    app.include_router(users.router)
    app.include_router(me.router)
    app.include_router(config_apply.router)
    app.include_router(sso.router)
    web_pages.install(app)
    # Alert ingest first: routes are matched in order, and behind every REST route each alert POST
    # was tested against them all (16% of the event loop at 1 alert per request). They are POST-only
    # on paths no REST route serves, so nothing else is shadowed.
    app.router.routes[0:0] = ingest_routes(system.ingest)
    for route in [*enqueue_routes(system.ingest), *integration_routes(system)]:
        app.router.routes.append(route)
    app.add_middleware(BodyLimit, limit=system.settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)

    @app.get(
        "/healthz",
        tags=["operations"],
        summary="Liveness and database reachability",
        dependencies=[Depends(public("load balancers and orchestrators ask without credentials"))],
    )
    async def healthz() -> dict[str, Any]:
        async with system.db.read() as conn:
            await conn.execute(sa.text("SELECT 1"))
        return {
            "status": "ok",
            "version": __version__,
            "database": system.db.dialect,
            "instance": system.owner,
        }

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
        dependencies=[
            Depends(public("Prometheus scrapes without credentials; put it behind a proxy if needed"))
        ],
    )
    async def metrics() -> Response:
        probes = (await monitors.probe_exposition(system.deps)).encode()
        return Response(system.metrics.exposition() + probes, media_type="text/plain; version=0.0.4")

    error_handlers.install(app)

    @app.exception_handler(OverflowError)
    async def out_of_range(request: Request, exc: OverflowError) -> JSONResponse:
        # A number past what the database stores (64-bit): the client's input, not our fault.
        return JSONResponse(error_body(f"a number in the request is out of range: {exc}"), 422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal error; see the server log"), 500)

    _document_ingest(app)
    app.edge = IngestEdge(super(KobanApp, app).__call__, Ingest(system.ingest), Enqueue(system.ingest))
    return app


class KobanApp(FastAPI):
    """FastAPI, with alert POSTs answered before anything of FastAPI runs (ingest/edge.py)."""

    edge: IngestEdge | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.edge is not None:
            await self.edge(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def _document_ingest(app: FastAPI) -> None:
    """The ingest routes bypass FastAPI for speed; describe them in the OpenAPI document by hand."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = base()
        op = {
            "tags": ["ingest"],
            "summary": "Send alerts; the integration key picks the parser (generic, alertmanager...)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}},
            "responses": {
                "202": {
                    "description": "Accepted and committed: generic JSON with incident ids per alert; "
                    "other sources' deliveries wait in the ingest inbox for the worker"
                },
                "400": {"description": "Not JSON, or empty"},
                "401": {"description": "Missing or unknown key"},
                "413": {"description": "Body over the size limit"},
                "422": {"description": "JSON that does not describe an alert; names the field"},
                "429": {"description": "Over the integration's rate limit or daily quota; see Retry-After"},
            },
            "security": [{"bearer": []}, {"apiKey": []}],
        }
        paths = spec.setdefault("paths", {})
        paths["/api/v1/ingest"] = {"post": {**op, "operationId": "ingest"}}
        paths["/api/v1/ingest/{key}"] = {
            "post": {
                **op,
                "operationId": "ingest_with_key_in_path",
                "security": [],
                "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
            }
        }
        paths["/api/v2/alerts"] = {"post": {**op, "operationId": "ingest_alertmanager_api_v2"}}
        paths["/api/v1/ingest/{key}/api/v2/alerts"] = {
            "post": {**paths["/api/v1/ingest/{key}"]["post"], "operationId": "ingest_api_v2_key_in_path"}
        }
        paths["/v2/enqueue"] = enqueue_openapi()
        spec.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        }
        document_callbacks(spec)
        document_access(app, spec)
        document_content(spec)
        document_errors(spec)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
