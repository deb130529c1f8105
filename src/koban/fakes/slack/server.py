"""A fake Slack (Web API, incoming webhooks, response_url) that records what it was sent.

``async with FakeSlack(signing_secret="s", interactivity_url=url) as fake:`` then point the channel at
``fake.base_url`` (bot mode) or ``fake.webhook_url()``. ``fake.fail_next(...)`` scripts failures and
``await fake.click(ts, "ack", "U_ALICE")`` sends a signed block_actions request like Slack does.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web

from koban.fakes._server import LocalServer
from koban.fakes.slack.blocks import invalid_blocks
from koban.fakes.slack.clicks import block_actions_payload, iter_buttons, signed_form
from koban.fakes.slack.usergroups import add_usergroups


@dataclass
class Failure:
    status: int = 200
    error: str | None = None  # JSON "error" (Web API) or plain-text body (webhooks)
    retry_after: int | None = None
    delay: float = 0.0  # answer (normally, unless status/error given) after this many seconds

    @property
    def delay_only(self) -> bool:
        return self.status == 200 and self.error is None


WEBHOOK = "webhook"  # method name used to script incoming-webhook failures


class FakeSlack(LocalServer):
    def __init__(
        self,
        *,
        signing_secret: str = "fake-signing-secret",
        interactivity_url: str | None = None,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signing_secret = signing_secret
        self.interactivity_url = interactivity_url
        self.token = token  # None: accept any bot token
        self.host, self.port = host, port
        self.clock = clock
        self.messages: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []  # posts to response_url
        self.requests: list[str] = []  # every API method/webhook hit, in order
        self.usergroups: dict[str, list[str]] = {}  # user group ID: its members (usergroups.py)
        self._script: dict[str, list[Failure]] = {}
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    # -- scripting and inspection -----------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        count: int = 1,
    ) -> None:
        """Script the next ``count`` calls of ``method`` (chat.postMessage, chat.update, webhook)."""
        failure = Failure(status, error, retry_after, delay)
        self._script.setdefault(method, []).extend([failure] * count)

    def message(self, ts: str) -> dict[str, Any]:
        return next(m for m in self.messages if m["ts"] == ts)

    def replies(self, ts: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("thread_ts") == ts]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/api/"

    def webhook_url(self, name: str = "alerts") -> str:
        return f"http://{self.host}:{self.port}/services/T0FAKE/B0FAKE/{name}"

    def snapshot(self) -> dict[str, Any]:
        return {"messages": self.messages, "responses": self.responses, "requests": self.requests}

    # -- clicking ---------------------------------------------------------------------------------
    async def click(
        self,
        message_ts: str,
        action_id: str,
        user_id: str,
        *,
        user_name: str = "",
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> int:
        """POST a signed block_actions request for a button on a recorded message; returns the status.
        ``secret``/``timestamp`` override the signing (to forge or replay in tests)."""
        if not self.interactivity_url:
            raise RuntimeError("FakeSlack has no interactivity_url configured")
        n = next(self._ts)
        payload = block_actions_payload(
            self.message(message_ts),
            action_id,
            user_id,
            user_name=user_name or user_id.lower(),
            response_url=f"http://{self.host}:{self.port}/actions/T0FAKE/{n}/resp",
            action_ts=f"{int(self.clock())}.{n:06d}",
        )
        ts = int(self.clock()) if timestamp is None else timestamp
        body, headers = signed_form(payload, secret or self.signing_secret, ts)
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.interactivity_url, data=body, headers=headers) as resp,
        ):
            return resp.status

    # -- HTTP -------------------------------------------------------------------------------------
    async def settled(self) -> None:
        """Wait until no request is being handled. A client that timed out leaves its request
        running here (a slow answer still to come, a post still to land): a test that looks for the
        outcome before that request finishes races it."""
        async with asyncio.timeout(30):
            await self._idle.wait()

    @web.middleware
    async def _counted(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        self._in_flight += 1
        self._idle.clear()
        try:
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._counted])
        app.router.add_post("/api/auth.test", self._auth_test)
        app.router.add_post("/api/chat.postMessage", self._post_message)
        app.router.add_post("/api/chat.update", self._update)
        app.router.add_route("*", "/api/conversations.history", self._history)
        app.router.add_post("/services/{tail:.*}", self._incoming_webhook)
        app.router.add_post("/actions/{tail:.*}", self._response_url)
        app.router.add_get("/_fake/messages", self._inspect)
        app.router.add_post("/_fake/fail", self._control_fail)
        app.router.add_post("/_fake/click", self._control_click)
        add_usergroups(app, self)
        return app

    async def _scripted(self, method: str, *, slow_after: bool = False) -> Failure | None:
        """The scripted failure for this call, after its delay. A slow-only script returns None, or
        with ``slow_after`` is returned undelayed: the caller does the work, then answers late (as
        Slack does when it posted but the answer is slow)."""
        self.requests.append(method)
        queue = self._script.get(method)
        failure = queue.pop(0) if queue else None
        slow_only = failure is not None and failure.delay_only
        if slow_only and slow_after:
            return failure
        if failure is not None and failure.delay:
            await asyncio.sleep(failure.delay)
        return None if slow_only else failure

    @staticmethod
    def _api_failure(failure: Failure) -> web.Response:
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        error = failure.error or ("ratelimited" if failure.status == 429 else "internal_error")
        return web.json_response({"ok": False, "error": error}, status=failure.status, headers=headers)

    async def _args(self, request: web.Request) -> dict[str, Any] | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or (self.token is not None and auth[7:] != self.token):
            return None
        if request.method == "GET":
            return {}
        if request.content_type == "application/json":
            return dict(await request.json())
        form = {k: v[0] for k, v in parse_qs((await request.read()).decode()).items()}
        for key in ("blocks", "attachments"):
            if key in form:
                form[key] = json.loads(form[key])
        return form

    @staticmethod
    def _channel_id(channel: str) -> str:
        if channel[:1] in "CGD" and channel.isupper():
            return channel
        return "C" + hashlib.sha1(channel.lstrip("#").encode()).hexdigest()[:10].upper()

    async def _auth_test(self, request: web.Request) -> web.Response:
        if await self._args(request) is None:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response(
            {"ok": True, "team": "Fake", "user": "koban", "team_id": "T0FAKE", "user_id": "U0KOBAN"}
        )

    async def _post_message(self, request: web.Request) -> web.Response:
        args = await self._args(request)
        if args is None:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        failure = await self._scripted("chat.postMessage", slow_after=True)
        if failure is not None and not failure.delay_only:
            return self._api_failure(failure)
        if not args.get("channel"):
            return web.json_response({"ok": False, "error": "channel_not_found"})
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return web.json_response({"ok": False, "error": "no_text"})
        if invalid_blocks(args):
            return web.json_response({"ok": False, "error": "invalid_blocks"})
        n = next(self._ts)
        ts = f"{1_700_000_000 + n}.{n:06d}"
        message = {
            "channel": self._channel_id(str(args["channel"])),
            "ts": ts,
            "thread_ts": args.get("thread_ts"),
            "text": args.get("text", ""),
            "blocks": args.get("blocks") or [],
            "attachments": args.get("attachments") or [],
            "updates": [],
            "via": "api",
            "metadata": args.get("metadata") or None,
        }
        self.messages.append(message)
        if failure is not None:
            await asyncio.sleep(failure.delay)  # posted, but the answer comes late
        return web.json_response({"ok": True, "channel": message["channel"], "ts": ts, "message": message})

    async def _update(self, request: web.Request) -> web.Response:
        args = await self._args(request)
        if args is None:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        failure = await self._scripted("chat.update")
        if failure is not None:
            return self._api_failure(failure)
        match = [
            m for m in self.messages if m["channel"] == args.get("channel") and m["ts"] == args.get("ts")
        ]
        if not match:
            return web.json_response({"ok": False, "error": "message_not_found"})
        if invalid_blocks(args):
            return web.json_response({"ok": False, "error": "invalid_blocks"})
        message = match[0]
        message["updates"].append({k: message[k] for k in ("text", "blocks", "attachments")})
        message.update(
            text=args.get("text", ""),
            blocks=args.get("blocks") or [],
            attachments=args.get("attachments") or [],
        )
        return web.json_response({"ok": True, "channel": message["channel"], "ts": message["ts"]})

    async def _history(self, request: web.Request) -> web.Response:
        args = await self._args(request)
        if args is None:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        args.update(request.query)  # slack_sdk sends this method as a GET with query parameters
        failure = await self._scripted("conversations.history")
        if failure is not None:
            return self._api_failure(failure)
        channel = str(args.get("channel", ""))
        with_meta = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [m for m in reversed(self.messages) if m["channel"] == channel and not m["thread_ts"]]
        found = found[: int(args.get("limit") or 100)]
        out = [
            {"type": "message", "ts": m["ts"], "text": m["text"]}
            | ({"metadata": m["metadata"]} if with_meta and m.get("metadata") else {})
            for m in found
        ]
        return web.json_response({"ok": True, "messages": out, "has_more": False})

    async def _incoming_webhook(self, request: web.Request) -> web.Response:
        failure = await self._scripted(WEBHOOK)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            status = failure.status if failure.status != 200 else 400
            return web.Response(text=failure.error or "rollup_error", status=status, headers=headers)
        try:
            body = await request.json()
        except ValueError:
            return web.Response(text="invalid_payload", status=400)
        if not isinstance(body, dict) or invalid_blocks(body):
            return web.Response(text="invalid_blocks", status=400)
        n = next(self._ts)
        self.messages.append(
            {
                "channel": request.match_info["tail"],
                "ts": f"{1_700_000_000 + n}.{n:06d}",
                "thread_ts": None,
                "text": body.get("text", ""),
                "blocks": body.get("blocks") or [],
                "attachments": body.get("attachments") or [],
                "updates": [],
                "via": "webhook",
            }
        )
        return web.Response(text="ok")

    async def _response_url(self, request: web.Request) -> web.Response:
        self.requests.append("response_url")
        self.responses.append({"path": request.path, "body": await request.json()})
        return web.Response(text="ok")

    async def _inspect(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot())

    async def _control_fail(self, request: web.Request) -> web.Response:
        spec = await request.json()
        self.fail_next(spec.pop("method"), **spec)
        return web.json_response({"ok": True})

    async def _control_click(self, request: web.Request) -> web.Response:
        """A click, as the demo's printed curl does it. A message koban has since updated (say, it
        now reads "Acknowledged by carol" and has no Acknowledge button) is not an error of the
        fake: the answer says what the message reads now and which buttons it has."""
        spec = await request.json()
        ts, action_id = str(spec["message_ts"]), str(spec["action_id"])
        found = [m for m in self.messages if m["ts"] == ts]
        if not found:
            return web.json_response(
                {"ok": False, "error": "message_not_found", "message_ts": ts}, status=404
            )
        buttons = [str(e.get("action_id")) for _, e in iter_buttons(found[0])]
        if action_id not in buttons:
            detail = f"message {ts} has no {action_id!r} button (any more); it reads: {found[0]['text']}"
            body = {"ok": False, "error": "no_such_button", "detail": detail, "buttons": buttons}
            return web.json_response(body | {"text": found[0]["text"]}, status=409)
        status = await self.click(ts, action_id, spec["user_id"])
        return web.json_response({"ok": True, "status": status})
