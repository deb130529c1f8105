"""A recording receiver for koban's outbound webhooks (tests and demo).

It verifies ``X-Koban-Signature``, records each delivery once per ``Idempotency-Key`` (a repeat answers
200 and counts as a duplicate attempt), can be scripted to fail (status N times, or hang), and serves
``GET /_recv/deliveries``. In-process: ``async with RecordingReceiver(secret="s") as r: r.url``.
Standalone: ``python -m koban.fakes.webhook_receiver --port 8099 --secret s``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from koban.channels.webhook.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature


@dataclass
class _Script:
    status: int | None = None  # answer this status instead of accepting
    retry_after: str | None = None
    hang: bool = False


@dataclass
class ReceiverState:
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    duplicates: int = 0
    rejected: int = 0
    failed: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "deliveries": self.deliveries,
            "attempts": self.attempts,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "failed": self.failed,
        }


class RecordingReceiver:
    def __init__(
        self,
        secret: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/hook",
        clock: Callable[[], float] = time.time,
        tolerance: float = 300,
    ) -> None:
        self.secret = secret
        self.host, self.port, self.path = host, port, path
        self.state = ReceiverState()
        self._clock = clock
        self._tolerance = tolerance
        self._script: list[_Script] = []
        self._seen: set[str] = set()
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # -- scripting -------------------------------------------------------------------------------
    def fail_next(self, count: int = 1, status: int = 500, retry_after: float | None = None) -> None:
        """Answer ``status`` to the next ``count`` requests (after signature checks), recording nothing."""
        ra = str(int(retry_after)) if retry_after is not None else None
        self._script.extend(_Script(status=status, retry_after=ra) for _ in range(count))

    def hang_next(self, count: int = 1) -> None:
        """Record the next ``count`` deliveries, then never answer: the sender times out after sending,
        which is exactly the in-doubt case a resend with the same Idempotency-Key must settle."""
        self._script.extend(_Script(hang=True) for _ in range(count))

    def release(self) -> None:
        """Answer every request ``hang_next`` is holding (a slow receiver that finally answers)."""
        self._release.set()

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        return self.state.deliveries

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    # -- HTTP ------------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(self.path, self._receive)
        app.router.add_get("/_recv/deliveries", self._list)
        return app

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response(self.state.as_json())

    async def _receive(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.state.attempts += 1
        if self.secret is not None and not verify_signature(
            self.secret,
            request.headers.get(TIMESTAMP_HEADER),
            body,
            request.headers.get(SIGNATURE_HEADER),
            self._clock(),
            self._tolerance,
        ):
            self.state.rejected += 1
            return web.json_response({"error": "bad signature"}, status=401)
        key = request.headers.get("Idempotency-Key", "")
        if key and key in self._seen:
            self.state.duplicates += 1
            return web.json_response({"status": "duplicate"})
        script = self._script.pop(0) if self._script else _Script()
        if script.status is not None:
            self.state.failed += 1
            headers = {"Retry-After": script.retry_after} if script.retry_after else {}
            return web.json_response({"error": "scripted"}, status=script.status, headers=headers)
        self._record(key, request, body)
        if script.hang:
            await self._release.wait()
        return web.json_response({"status": "accepted"})

    def _record(self, key: str, request: web.Request, body: bytes) -> None:
        if key:
            self._seen.add(key)
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            parsed = None
        self.state.deliveries.append(
            {
                "idempotency_key": key,
                "delivery": request.headers.get("X-Koban-Delivery"),
                "timestamp": request.headers.get(TIMESTAMP_HEADER),
                "json": parsed,
                "body": body.decode("utf-8", "replace"),
            }
        )

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> RecordingReceiver:
        self._runner = web.AppRunner(self.app(), shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        self._release.set()  # let hanging handlers finish so shutdown is prompt
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> RecordingReceiver:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Recording receiver for koban outbound webhooks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--secret", default=None, help="verify X-Koban-Signature with this secret")
    parser.add_argument("--path", default="/hook")
    args = parser.parse_args(argv)
    receiver = RecordingReceiver(args.secret, host=args.host, port=args.port, path=args.path)
    web.run_app(receiver.app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
