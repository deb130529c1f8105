"""Wake other instances when due work is committed (PostgreSQL LISTEN/NOTIFY), polling as the fallback.

A transaction that makes work due runs ``pg_notify`` (``UnitOfWork.flush``); PostgreSQL delivers it
only if and when that transaction commits, so a listener never wakes for work it cannot see yet.
Each instance keeps one dedicated connection listening and wakes its worker on every notification.
Notifications are a latency hint, not the queue: if the listener is down, workers still find the
rows by polling every ``poll_seconds``, so nothing is lost while it reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import make_url

log = logging.getLogger("koban.due_signal")
CHANNEL = "koban_due"
RECONNECT_MAX_SECONDS = 30.0


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class DueListener:
    def __init__(self, url: str, wake: Callable[[], None]) -> None:
        self.dsn = asyncpg_dsn(url)
        self.wake = wake
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="koban-due-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _on_notify(self, *_: Any) -> None:
        self.wake()

    async def _run(self) -> None:
        import asyncpg

        failures = 0
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self.dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._on_notify)
                self.connected.set()
                failures = 0
                # Work committed while we were not listening is found by this wake-up's poll.
                self.wake()
                await lost.wait()
                log.warning("due-work listener lost its connection; polling until it is back")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning("due-work listener cannot connect (%s); polling meanwhile", exc)
            finally:
                self.connected.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=2)
            await asyncio.sleep(min(RECONNECT_MAX_SECONDS, 0.5 * 2**failures))
