"""Interop fixtures: koban served over real loopback HTTP, and a scrape target we can break and mend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from koban.bootstrap.app import create_app
from koban.testing.ports import free_port


@asynccontextmanager
async def serve_koban(k: Any) -> AsyncIterator[str]:
    """uvicorn in this test's event loop, around an already running system."""
    port = free_port()
    app = create_app(k, manage_system=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn offers no start event
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class Target:
    """A /metrics endpoint: healthy answers 200 with a gauge, broken answers 500 (Prometheus: up == 0)."""

    def __init__(self) -> None:
        self.healthy = True
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    return
                body = b"# TYPE interop_ok gauge\ninterop_ok 1\n" if self.healthy else b"broken\n"
                status = b"200 OK" if self.healthy else b"500 Internal Server Error"
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain; version=0.0.4\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Target]:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            self._server.close()
            await self._server.wait_closed()
