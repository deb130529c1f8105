"""A webhook receiver that records every request, for peers (Alertmanager) to notify in tests.

async with Recorder.running() as recorder:
    ...  # point a peer at recorder.url + "/hook"
    hit = await recorder.wait_for(lambda r: r.json["status"] == "resolved", timeout=10)
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.ports import LOOPBACK, free_port


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Recorder:
    def __init__(self, status: int = 200) -> None:
        self.status = status  # what every request gets back; set 500 to exercise retries
        self.requests: list[Recorded] = []
        self.url = ""
        self._changed = asyncio.Condition()

    @classmethod
    @asynccontextmanager
    async def running(cls, status: int = 200) -> AsyncIterator[Recorder]:
        recorder = cls(status)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", recorder._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            port = free_port()
            await web.TCPSite(runner, LOOPBACK, port).start()
            recorder.url = f"http://{LOOPBACK}:{port}"
            yield recorder
        finally:
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        recorded = Recorded(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            body=await request.read(),
        )
        async with self._changed:
            self.requests.append(recorded)
            self._changed.notify_all()
        return web.json_response({"recorded": len(self.requests)}, status=self.status)

    async def wait_for(
        self,
        predicate: Callable[[Recorded], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 -- bounds a wait on a condition, as the callers asked
    ) -> Recorded:
        """First request (already received or arriving within ``timeout``) that matches."""

        def match() -> Recorded | None:
            return next((r for r in self.requests if predicate(r)), None)

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: match() is not None)
        except TimeoutError:
            seen = [(r.method, r.path, r.body[:200]) for r in self.requests]
            raise AssertionError(f"no matching request within {timeout}s; received {seen}") from None
        found = match()
        assert found is not None
        return found
