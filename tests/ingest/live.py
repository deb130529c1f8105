"""A real koban HTTP server (uvicorn, loopback) in a background thread, for synchronous tests.

Hypothesis drives plain functions; the server keeps its own event loop and system, so hundreds of
examples reuse one running instance over real sockets.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from koban.bootstrap.app import create_app
from koban.config.model import ConfigFile
from koban.ingest.header_limits import limited_protocol
from koban.testing.ports import free_port
from tests.support.system import running_system


@contextmanager
def live_koban(
    db_url: str, cfg: ConfigFile, tmp_path: Path, *, direct: bool = True, **settings: Any
) -> Iterator[str]:
    """``direct``: uvicorn with ``koban serve``'s protocol (alert POSTs answered without ASGI)."""
    port = free_port()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        async with running_system(db_url, cfg, tmp_path, **settings) as k:
            app = create_app(k, manage_system=False)
            http: Any = limited_protocol(app.edge.ingest) if direct else "auto"  # type: ignore[union-attr]
            server = uvicorn.Server(
                uvicorn.Config(
                    app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", http=http
                )
            )
            holder["server"] = server
            task = asyncio.create_task(server.serve())
            for _ in range(1500):  # uvicorn offers no start event; 30 s at most
                if server.started or task.done():
                    break
                await asyncio.sleep(0.02)
            ready.set()
            await task

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # surfaced to the test below
            holder["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, name="koban-live", daemon=True)
    thread.start()
    ready.wait(30)
    if "error" in holder:
        raise holder["error"]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        holder["server"].should_exit = True
        thread.join(30)
