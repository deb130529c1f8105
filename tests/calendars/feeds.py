"""A calendar feed served over real HTTP on 127.0.0.1, with ETags or Last-Modified dates, that a test
can change."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from koban.testing.ports import free_port


def stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y%m%dT%H%M%SZ")


def ical(*events: tuple[str, float, float, str]) -> str:
    """(uid, start, end, summary) each; extra lines may follow the summary after a newline."""
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//koban tests//EN"]
    for uid, start, end, summary in events:
        out += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTART:{stamp(start)}",
            f"DTEND:{stamp(end)}",
            f"SUMMARY:{summary}",
        ]
        out.append("END:VEVENT")
    out.append("END:VCALENDAR")
    return "\r\n".join(out) + "\r\n"


@dataclass
class Feed:
    body: str = ""
    content_type: str = "text/calendar"
    requests: int = 0
    not_modified: int = 0
    seen_etags: list[str | None] = field(default_factory=list)
    url: str = ""
    # None: an ETag per body. A date: no ETag, this Last-Modified (a server that only dates its copy).
    last_modified: str | None = None
    seen_since: list[str | None] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        self.seen_etags.append(request.headers.get("If-None-Match"))
        self.seen_since.append(request.headers.get("If-Modified-Since"))
        if self.last_modified is not None:
            stamp = {"Last-Modified": self.last_modified}
            unchanged = request.headers.get("If-Modified-Since") == self.last_modified
        else:
            stamp = {"ETag": '"' + hashlib.sha256(self.body.encode()).hexdigest()[:16] + '"'}
            unchanged = request.headers.get("If-None-Match") == stamp["ETag"]
        if unchanged:
            self.not_modified += 1
            return web.Response(status=304, headers=stamp)
        return web.Response(body=self.body.encode(), headers={**stamp, "Content-Type": self.content_type})


@asynccontextmanager
async def serving(feed: Feed) -> AsyncIterator[Feed]:
    app = web.Application()
    app.router.add_get("/cal.ics", feed.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    feed.url = f"http://127.0.0.1:{port}/cal.ics"
    try:
        yield feed
    finally:
        await runner.cleanup()
