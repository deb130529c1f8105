"""A Twilio-compatible server for tests and the demo: the official twilio library works against it unchanged.

In-process::

    async with TwilioSimulator(auth_token="t", personas={"numbers": {"+15550001": "ack"}}, speed=20) as sim:
        client = Client(sim.account_sid, "t"); client.api.base_url = sim.url
        ...
        call = await sim.wait_for_call(sid)       # settled SimCall: events, spoken, digits

Standalone: ``python -m koban.fakes.twilio --port 8098 --auth-token t --personas personas.yaml``.
Inspection (no auth, loopback only by intent): ``GET /_sim/calls``, ``GET /_sim/calls/{sid}``,
``GET /_sim/messages``, ``GET /_sim/requests``, ``POST /_sim/sms/reply`` ``{"from", "body"}``,
``POST /_sim/faults`` ``{"code": 20429, "count": 1}`` or ``{"delay": 5}``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp import web

from koban.fakes.twilio.dialer import Dialer
from koban.fakes.twilio.personas import PersonaBook
from koban.fakes.twilio.resources import API_VERSION, Fault, SimCall, SimMessage, new_sid
from koban.fakes.twilio.rest import SIM_KEY, add_routes, json_error, rest_middleware
from koban.fakes.twilio.webhooks import Signer

DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_NUMBER = "+15005550006"  # Twilio's magic "valid" test caller number


class TwilioSimulator:
    def __init__(
        self,
        auth_token: str = "sim-token",
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        personas: PersonaBook | Mapping[str, Any] | None = None,
        speed: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        sms_url: str | None = None,
        number: str = DEFAULT_NUMBER,
        secondary_auth_token: str | None = None,
        calls_per_second: float = 1.0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        # Twilio signs with the primary token; the secondary is only accepted for REST auth (rotation).
        self.auth_tokens = tuple(t for t in (auth_token, secondary_auth_token) if t)
        self.personas = personas if isinstance(personas, PersonaBook) else PersonaBook.from_mapping(personas)
        self.speed = speed
        # Twilio's default: 1 outbound call a second per account; more are queued, not refused.
        self.calls_per_second = calls_per_second
        self._next_dial = 0.0  # loop time the next queued call may dial at
        self.host, self.port = host, port
        self.sms_url = sms_url
        self.number = number
        self.calls: dict[str, SimCall] = {}
        self.messages: list[SimMessage] = []
        self.requests: list[dict[str, Any]] = []
        self.faults: deque[Fault] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._dialer: Dialer | None = None
        self._signer: Signer | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application(middlewares=[rest_middleware])
        app[SIM_KEY] = self
        add_routes(app)
        app.router.add_get("/_sim/calls", self._h_calls)
        app.router.add_get("/_sim/calls/{sid}", self._h_call)
        app.router.add_get("/_sim/messages", self._h_messages)
        app.router.add_get("/_sim/requests", self._h_requests)
        app.router.add_post("/_sim/sms/reply", self._h_reply)
        app.router.add_post("/_sim/faults", self._h_faults)
        return app

    async def start(self) -> TwilioSimulator:
        app = self.app()
        self._session = aiohttp.ClientSession()
        self._signer = Signer(self._session, self.auth_token)
        self._dialer = Dialer(self._signer, self.speed)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> TwilioSimulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- used by the REST handlers ----------------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def take_fault(self) -> Fault | None:
        return self.faults.popleft() if self.faults else None

    def start_call(self, call: SimCall) -> None:
        assert self._dialer is not None
        self.calls[call.sid] = call
        now = asyncio.get_running_loop().time()
        at = max(now, self._next_dial)
        self._next_dial = at + 1 / (self.calls_per_second * self.speed)
        call.queued_for = (at - now) * self.speed  # simulated seconds in Twilio's CPS queue
        self._spawn(self._dialer.run(call, self.personas.for_number(call.to), call.queued_for))

    def deliver_message(self, message: SimMessage, status_callback: str | None) -> None:
        async def deliver() -> None:
            for status in ("sent", "delivered"):
                await asyncio.sleep(0.1 / self.speed)
                message.status = status
                if status_callback and self._signer is not None:
                    params = {
                        "MessageSid": message.sid,
                        "SmsSid": message.sid,
                        "MessageStatus": status,
                        "SmsStatus": status,
                        "AccountSid": self.account_sid,
                        "From": message.from_,
                        "To": message.to,
                        "ApiVersion": API_VERSION,
                    }
                    await self._signer.send(status_callback, "POST", params)

        self._spawn(deliver())

    # -- helpers for tests and the demo -----------------------------------------------------------------
    def fail_next(self, code: int | None = None, *, count: int = 1, delay: float = 0.0) -> None:
        self.faults.extend([Fault(code, delay)] * count)

    async def wait_for_call(self, sid: str, within: float = 10.0) -> SimCall:
        """The call once it has ended (its final status callback sent)."""
        call = self.calls[sid]
        await asyncio.wait_for(call.done.wait(), timeout=within)
        return call

    async def reply_sms(
        self,
        from_: str,
        body: str,
        *,
        to: str | None = None,
        url: str | None = None,
        sid: str | None = None,
    ) -> tuple[int, str]:
        """Post a signed inbound-SMS webhook as Twilio would; returns (status, body) of the app's answer.

        ``sid`` resends the webhook of a message already received (same MessageSid), as Twilio does
        when it did not get the first answer."""
        target = url or self.sms_url
        if not target or self._signer is None:
            raise RuntimeError("no SMS webhook URL configured (sms_url=...)")
        message = SimMessage(
            sid=sid or new_sid("SM"),
            account_sid=self.account_sid,
            to=to or self.number,
            from_=from_,
            body=body,
            status="received",
            direction="inbound",
        )
        if sid is None:
            self.messages.append(message)
        params = {
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "SmsMessageSid": message.sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "To": message.to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": str(message.num_segments),
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
        }
        status, _, text = await self._signer.send(target, "POST", params)
        return status, text

    # -- inspection endpoints ---------------------------------------------------------------------------
    async def _h_calls(self, request: web.Request) -> web.Response:
        return web.json_response({"calls": [c.inspect() for c in self.calls.values()]})

    async def _h_call(self, request: web.Request) -> web.Response:
        call = self.calls.get(request.match_info["sid"])
        if call is None:
            return json_error(20404, path=request.path)
        return web.json_response(call.inspect())

    async def _h_messages(self, request: web.Request) -> web.Response:
        return web.json_response({"messages": [m.as_json() for m in self.messages]})

    async def _h_requests(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": self.requests})

    async def _h_reply(self, request: web.Request) -> web.Response:
        try:
            data = await request.json()
            status, body = await self.reply_sms(str(data["from"]), str(data["body"]), to=data.get("to"))
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": f"expected JSON {{from, body}}: {exc}"}, status=400)
        except RuntimeError as exc:
            return web.json_response({"error": str(exc)}, status=409)
        return web.json_response({"status": status, "body": body})

    async def _h_faults(self, request: web.Request) -> web.Response:
        try:
            data = await request.json()
            code = int(data["code"]) if data.get("code") is not None else None
            self.fail_next(code, count=int(data.get("count", 1)), delay=float(data.get("delay", 0)))
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"pending": len(self.faults)})
