"""A local webhook receiver that stamps each request with the wall-clock time it arrived.

Both sides of the wake bench notify it (koban's webhook channel, Alertmanager's webhook_configs),
so "time to wake" ends at the same place for both: the first byte of a notification reaching a listener.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from koban.testing.ports import LOOPBACK, free_port


@dataclass(frozen=True)
class Arrival:
    at: float  # time.time() when the request was read
    path: str
    body: Any


class Receiver:
    def __init__(self) -> None:
        self.url = ""
        self.arrivals: list[Arrival] = []
        self._new = asyncio.Event()

    @classmethod
    @asynccontextmanager
    async def running(cls) -> AsyncIterator[Receiver]:
        rec = cls()
        app = web.Application()
        app.router.add_post("/{tail:.*}", rec._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            port = free_port()
            await web.TCPSite(runner, LOOPBACK, port).start()
            rec.url = f"http://{LOOPBACK}:{port}"
            yield rec
        finally:
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        at = time.time()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        self.arrivals.append(Arrival(at, request.path, body))
        self._new.set()
        return web.json_response({"ok": True})

    async def first(self, path: str, match: Callable[[Any], bool], after: float, within: float) -> Arrival:
        """The first request to ``path`` after time ``after`` whose body matches; waits ``within`` s."""
        deadline = time.monotonic() + within
        while True:
            for a in self.arrivals:
                if a.path == path and a.at >= after and match(a.body):
                    return a
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no notification on {path} within {within:g}s")
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), left)
            except TimeoutError:
                continue
