"""A fake PagerDuty Events API v2 (protocols.md §3.1) that records what it was sent.

``async with FakePagerDuty() as pd:`` then use ``pd.url`` as the channel's ``url``. Reproduces 202
bodies, 400 with an ``errors`` list, 429 over 120 events/min per routing key (60 s sliding window on an
injectable clock), and dedup semantics. ``GET /_fake/events`` and ``GET /_fake/alerts`` show the record.
Standalone: ``python -m koban.fakes.pagerduty --port 8097``.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

from koban.fakes._server import LocalServer

RATE_LIMIT = 120
WINDOW = 60.0
ACTIONS = ("trigger", "acknowledge", "resolve")
MAX_EVENT_BYTES = 512 * 1024  # PagerDuty's payload limit (protocols.md §3.1)
MAX_SUMMARY = 1024
SEVERITIES = ("critical", "error", "warning", "info")


def validate(event: Any) -> list[str]:
    """Pure: the error list PagerDuty would answer 400 with (empty when the event is valid)."""
    if not isinstance(event, dict):
        return ["Event object is invalid"]
    errors = []
    if len(str(event.get("routing_key", ""))) != 32:
        errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
    key = event.get("dedup_key")
    if key is not None and len(str(key)) > 255:
        errors.append("'dedup_key' is too long (max 255 characters)")
    if action in ("acknowledge", "resolve") and not key:
        errors.append("'dedup_key' is required for acknowledge and resolve events")
    if action == "trigger":
        raw = event.get("payload")
        payload = raw if isinstance(raw, dict) else {}
        for name in ("summary", "source"):
            if not payload.get(name):
                errors.append(f"'payload.{name}' is missing or blank")
        if len(str(payload.get("summary", ""))) > MAX_SUMMARY:
            errors.append(f"'payload.summary' is too long (max {MAX_SUMMARY} characters)")
        if payload.get("severity") not in SEVERITIES:
            errors.append("'payload.severity' is invalid (must be one of: critical, error, warning, info)")
    return errors


class FakePagerDuty(LocalServer):
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] = time.time):
        self.host, self.port, self.clock = host, port, clock
        self.events: list[dict[str, Any]] = []  # every accepted event, in order
        self.alerts: dict[tuple[str, str], dict[str, Any]] = {}  # (routing_key, dedup_key) -> alert
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._script: list[int] = []
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v2/enqueue"

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        self._script.extend([status] * count)

    def alert(self, routing_key: str, dedup_key: str) -> dict[str, Any] | None:
        return self.alerts.get((routing_key, dedup_key))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v2/enqueue", self._enqueue)
        app.router.add_get("/_fake/events", self._list_events)
        app.router.add_get("/_fake/alerts", self._list_alerts)
        return app

    def _throttled(self, routing_key: str) -> bool:
        now, recent = self.clock(), self._recent[routing_key]
        while recent and now - recent[0] >= WINDOW:
            recent.popleft()
        if len(recent) >= RATE_LIMIT:
            return True
        recent.append(now)
        return False

    async def _enqueue(self, request: web.Request) -> web.Response:
        if self._script:
            return web.Response(status=self._script.pop(0), text="scripted failure")
        body = await request.read()
        if len(body) > MAX_EVENT_BYTES:
            return self._invalid([f"Event object is invalid: {len(body)} bytes, over the 512 KB limit"])
        try:
            event = json.loads(body)
        except ValueError:
            return self._invalid(["Event object is invalid: body is not JSON"])
        errors = validate(event)
        if errors:
            return self._invalid(errors)
        if self._throttled(event["routing_key"]):
            return web.Response(status=429)
        key = str(event.get("dedup_key") or uuid.uuid4().hex)
        self._apply(event["routing_key"], key, event)
        return web.json_response(
            {"status": "success", "message": "Event processed", "dedup_key": key}, status=202
        )

    def _apply(self, routing_key: str, key: str, event: dict[str, Any]) -> None:
        self.events.append({**event, "dedup_key": key, "received_at": self.clock()})
        alert = self.alerts.get((routing_key, key))
        action = event["event_action"]
        if action == "trigger":
            if alert is None or alert["status"] == "resolved":
                # A trigger after resolve opens a new alert under the same key.
                number = (alert["number"] + 1) if alert else 1
                alert = {"dedup_key": key, "number": number, "status": "triggered", "events": 0}
                self.alerts[(routing_key, key)] = alert
                alert["summary"] = event["payload"]["summary"]
            alert["events"] += 1
        elif alert is not None and alert["status"] != "resolved":
            alert["status"] = "acknowledged" if action == "acknowledge" else "resolved"
            alert["events"] += 1
        # ack/resolve with no open alert: silently dropped, still 202 (as PagerDuty does).

    @staticmethod
    def _invalid(errors: list[str]) -> web.Response:
        body = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
        return web.json_response(body, status=400)

    async def _list_events(self, request: web.Request) -> web.Response:
        return web.json_response({"events": self.events})

    async def _list_alerts(self, request: web.Request) -> web.Response:
        alerts = [{"routing_key": rk, **alert} for (rk, _), alert in self.alerts.items()]
        return web.json_response({"alerts": alerts})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake PagerDuty Events API v2.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8097)
    args = parser.parse_args(argv)
    web.run_app(FakePagerDuty(host=args.host, port=args.port).app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
