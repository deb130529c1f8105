"""The outermost ASGI layer: alert POSTs are answered before FastAPI sees them.

Matching a handful of paths by string and calling the ingest endpoint directly skips the
middleware stack, the router's walk over every REST route and Starlette's Request objects: at one
alert per request that machinery cost more than the alert. Everything else (other paths, other
methods, which get their 405 from the router) passes through unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from koban.ingest.routes import Ingest

PREFIX = "/api/v1/ingest/"


def ingest_params(path: str) -> dict[str, str] | None:
    """The path parameters of an ingest POST path (``Ingest``'s routes), or None for any other path."""
    if path == "/api/v2/alerts" or path == "/api/v1/ingest":
        return {}
    if path.startswith(PREFIX):
        key, slash, tail = path[len(PREFIX) :].partition("/")
        # The same shapes the routes accept: /ingest/<key> and /ingest/<key>/api/v2/alerts.
        if key and (not slash or tail == "api/v2/alerts"):
            return {"key": key}
    return None


class IngestEdge:
    def __init__(self, app: ASGIApp, ingest: Ingest, enqueue: ASGIApp) -> None:
        self.app, self.ingest, self.enqueue = app, ingest, enqueue

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            if path == "/v2/enqueue":
                return await self.enqueue(scope, receive, send)
            params = ingest_params(path)
            if params is not None:
                scope["path_params"] = params
                return await self.ingest(scope, receive, send)
        await self.app(scope, receive, send)
