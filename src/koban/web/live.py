"""``/incidents/events``: tells open incident pages that something changed (server-sent events).

One poll of the incidents table per process, however many tabs listen (``LiveFeed``): each tab's
one connection waits for the feed's version to move, then says so; the tab's script fetches the rows
it shows again (filtered by what that person may see), so nothing is sent over the stream but the
fact of a change. The poll sees every instance's writes, since it reads the shared database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from koban.auth.permissions import Scope
from koban.db import schema as t
from koban.web.deps import deps_of
from koban.web.guard import page_needs

log = logging.getLogger("koban.web")
router = APIRouter(include_in_schema=False)
POLL_SECONDS = 0.5  # an incident shows within a second
KEEPALIVE_SECONDS = 15.0  # proxies close a silent connection
# Then the browser reconnects on its own (``retry``), naming the last version it was told
# (``Last-Event-ID``): a restart waits on an open tab for this long at most, and a reconnect costs
# the tab nothing.
STREAM_SECONDS = 25.0
MAX_EVENT_ID = 100
Version = tuple[Any, ...]


class LiveFeed:
    """The incidents table's version (highest id, latest change), polled while anyone listens."""

    def __init__(self, read: Callable[[], Awaitable[Version]], every: float = POLL_SECONDS) -> None:
        self._read, self.every = read, every
        self.version: Version = ()
        self._changed = asyncio.Event()
        self._listeners = 0
        self._task: asyncio.Task[None] | None = None

    async def _poll(self) -> None:
        while self._listeners > 0:
            try:
                version = await self._read()
            except Exception:  # the database is away for a moment: keep the tabs, try again
                log.warning("live feed: reading the incidents' version failed", exc_info=True)
                version = self.version
            if version != self.version:
                self.version, changed = version, self._changed
                self._changed = asyncio.Event()
                changed.set()
            await asyncio.sleep(self.every)
        self._task = None  # no await since the check: a new listener starts a new poll

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[LiveFeed]:
        self._listeners += 1
        if self._task is None:
            self._task = asyncio.create_task(self._poll())
        try:
            yield self
        finally:
            self._listeners -= 1

    async def next_change(self, within: float) -> bool:
        try:
            await asyncio.wait_for(self._changed.wait(), within)
        except TimeoutError:
            return False
        return True


def feed_of(request: Request) -> LiveFeed:
    state = request.app.state
    feed: LiveFeed | None = getattr(state, "live_feed", None)
    if feed is None:
        db = deps_of(request).db

        async def read() -> Version:
            c = t.incidents.c
            async with db.read() as conn:
                row = (await conn.execute(sa.select(sa.func.max(c.id), sa.func.max(c.updated_at)))).one()
            return tuple(row)

        feed = state.live_feed = LiveFeed(read)
    return feed


def event_id(version: Version) -> str:
    return ":".join(str(v) for v in version)


async def _events(feed: LiveFeed, last_id: str = "") -> AsyncIterator[str]:
    async with feed.listen():
        yield "retry: 3000\n\n"
        seen = last_id[:MAX_EVENT_ID]
        ends = time.monotonic() + STREAM_SECONDS
        while time.monotonic() < ends:
            # Compared, not only awaited: a change made while this tab was sending still counts.
            # A new tab is told the first version too: its page may have been rendered before it.
            if feed.version and event_id(feed.version) != seen:
                seen = event_id(feed.version)
                yield f"id: {seen}\nevent: incidents\ndata: changed\n\n"
            elif not await feed.next_change(min(KEEPALIVE_SECONDS, max(0.0, ends - time.monotonic()))):
                yield ": still here\n\n"


@router.get("/incidents/events", dependencies=[page_needs(Scope.READ)])
async def incident_events(request: Request) -> StreamingResponse:
    return StreamingResponse(
        _events(feed_of(request), request.headers.get("last-event-id", "")),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )
