"""Fetching and applying a 5,000-event iCal feed (target < 2 s).

A local HTTP server (aiohttp, 127.0.0.1) serves a feed of ``--events`` events spread over the
window koban keeps (a week behind to 60 days ahead), in Asia/Tokyo with a VTIMEZONE: a third name a
person (shifts of the ``duty`` schedule), a tenth are "Maintenance" work that a task rule follows
(a pending task each), a few are weekly series with a moved and a cancelled occurrence. A real
``koban serve`` (SQLite) is asked ``POST /api/v1/calendars/duty/refresh``, which fetches, parses,
stores the events and syncs the tasks before it answers; the time of that request is the figure.
Three rounds: the first fetch, the same feed again (a 304: nothing parsed) and a changed feed
(every event moved by 5 minutes: all rewritten, every task moved). Prints the server's CPU time
for each request and the load average too.

    python -m bench.calendar_feed [--events 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import time
from datetime import UTC, datetime

import httpx
from aiohttp import web

from bench.koban_server import run_koban
from bench.oncall_http import add_token, cpu_ms
from koban.auth.permissions import Scope
from koban.testing.ports import free_port

PEOPLE = [f"p{i:03d}" for i in range(30)]
TOKYO = [
    "BEGIN:VTIMEZONE",
    "TZID:Asia/Tokyo",
    "BEGIN:STANDARD",
    "DTSTART:19700101T000000",
    "TZOFFSETFROM:+0900",
    "TZOFFSETTO:+0900",
    "TZNAME:JST",
    "END:STANDARD",
    "END:VTIMEZONE",
]


def _local(t: float) -> str:
    return datetime.fromtimestamp(t + 9 * 3600, UTC).strftime("%Y%m%dT%H%M%S")


def feed(n: int, now: float, shift: float = 0.0) -> str:
    """``n`` events over [now - 6 days, now + 59 days), moved by ``shift`` seconds."""
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//koban bench//EN", *TOKYO]
    first, step = now - 6 * 86400, 65 * 86400 / n
    series = max(1, n // 500)  # weekly series of 8 occurrences each, counted in ``n``
    singles = n - series * 8
    for i in range(singles):
        a = first + i * step + shift
        title = (
            PEOPLE[i % len(PEOPLE)] if i % 3 == 0 else f"Maintenance {i}" if i % 10 == 1 else f"Meeting {i}"
        )
        out += [
            "BEGIN:VEVENT",
            f"UID:ev-{i}@bench",
            f"DTSTAMP:{_local(now)}Z",
            f"DTSTART;TZID=Asia/Tokyo:{_local(a)}",
            f"DTEND;TZID=Asia/Tokyo:{_local(a + 3600)}",
            f"SUMMARY:{title}",
            f"LOCATION:Room {i % 7}",
            "END:VEVENT",
        ]
    for j in range(series):
        a = first + j * 3600 + shift
        uid = f"series-{j}@bench"
        base = [f"UID:{uid}", f"DTSTAMP:{_local(now)}Z", "SUMMARY:Maintenance weekly"]
        out += ["BEGIN:VEVENT", *base, f"DTSTART;TZID=Asia/Tokyo:{_local(a)}"]
        out += [f"DTEND;TZID=Asia/Tokyo:{_local(a + 1800)}", "RRULE:FREQ=WEEKLY;COUNT=9"]
        out += [f"EXDATE;TZID=Asia/Tokyo:{_local(a + 7 * 86400)}", "END:VEVENT"]
        moved = a + 2 * 7 * 86400  # the third occurrence, an hour later
        out += ["BEGIN:VEVENT", *base, f"RECURRENCE-ID;TZID=Asia/Tokyo:{_local(moved)}"]
        out += [f"DTSTART;TZID=Asia/Tokyo:{_local(moved + 3600)}"]
        out += [f"DTEND;TZID=Asia/Tokyo:{_local(moved + 5400)}", "END:VEVENT"]
    out.append("END:VCALENDAR")
    return "\r\n".join(out) + "\r\n"


def config(url: str) -> dict:
    layer = {"name": "week", "members": PEOPLE[:3], "start": "2026-01-05", "handoff": "10:00"}
    rule = {"id": "work", "match": {"title": "^Maintenance"}, "service": "ops", "policy": "task"}
    rule |= {"lead": "10m", "grace": "15m"}
    return {
        "people": [{"id": p} for p in PEOPLE],
        "channels": [{"id": "log", "type": "webhook", "url": "http://127.0.0.1:9/"}],
        "policies": [{"id": "task", "steps": [{"notify": [{"channel": "log"}], "escalate_after": "5m"}]}],
        "services": [{"id": "ops", "policy": "task"}],
        "schedules": [{"id": "duty", "timezone": "Asia/Tokyo", "layers": [layer]}],
        "calendars": [
            {
                "id": "duty",
                "url": url,
                "every": "1h",
                "timezone": "Asia/Tokyo",
                "schedule": "duty",
                "tasks": [rule],
            }
        ],
    }


class Feed:
    def __init__(self) -> None:
        self.body = ""

    async def handle(self, request: web.Request) -> web.Response:
        etag = '"' + hashlib.sha256(self.body.encode()).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=self.body.encode(), headers={"ETag": etag, "Content-Type": "text/calendar"})


async def run(args: argparse.Namespace) -> list[tuple[str, float, dict]]:
    served = Feed()
    app = web.Application()
    app.router.add_get("/basic.ics", served.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    fport = free_port()
    await web.TCPSite(runner, "127.0.0.1", fport).start()
    rounds: list[tuple[str, float, dict]] = []
    try:
        config_ = config(f"http://127.0.0.1:{fport}/basic.ics")
        async with run_koban(config=config_) as koban:
            token = await add_token(f"sqlite:///{koban.database}", Scope.MANAGE)
            now = time.time()
            async with httpx.AsyncClient(
                base_url=koban.url, headers={"Authorization": f"Bearer {token}"}, timeout=120
            ) as c:
                for name, shift in (
                    ("first fetch", 0.0),
                    ("unchanged (304)", 0.0),
                    ("every event moved", 300.0),
                ):
                    served.body = feed(args.events, now, shift)
                    t0, c0 = time.perf_counter(), cpu_ms(koban.pid)
                    got = await c.post("/api/v1/calendars/duty/refresh")
                    ms = (time.perf_counter() - t0) * 1000
                    server_cpu = cpu_ms(koban.pid) - c0
                    if got.status_code != 200 or got.json().get("error"):
                        raise SystemExit(f"refresh: {got.status_code} {got.text[:300]}")
                    rounds.append((name, ms, {**got.json(), "cpu_ms": server_cpu}))
    finally:
        await runner.cleanup()
    return rounds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.calendar_feed", description=__doc__)
    p.add_argument("--events", type=int, default=5000)
    args = p.parse_args(argv)
    size = len(feed(args.events, time.time()).encode())
    rounds = asyncio.run(run(args))
    print(
        f"\n## fetch and apply an iCal feed: {args.events} events ({size / 1e6:.1f} MB), koban serve, SQLite"
    )
    for name, ms, status in rounds:
        print(
            f"{name:<20} {ms:8.1f} ms  (server CPU {status['cpu_ms']:7.1f} ms; {status['events']} events "
            "in the window)   target < 2000 ms"
        )
    print(f"# {os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
