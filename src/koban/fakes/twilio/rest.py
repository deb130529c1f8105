"""The REST subset the twilio library uses, in Twilio's exact shapes (protocols.md §1.1-1.3, §1.9)."""

from __future__ import annotations

import asyncio
import base64
import hmac
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web
from multidict import MultiDictProxy

from koban.fakes.twilio.personas import Behavior, PersonaBook
from koban.fakes.twilio.resources import API_VERSION, Fault, SimCall, SimMessage, error_body, new_sid


class TwilioSimulator(Protocol):
    """What the REST handlers use of the simulator (simulator.py), which owns the dialer and timing."""

    account_sid: str
    auth_tokens: tuple[str, ...]
    personas: PersonaBook
    calls: dict[str, SimCall]
    messages: list[SimMessage]
    requests: list[dict[str, Any]]

    def take_fault(self) -> Fault | None: ...
    def start_call(self, call: SimCall) -> None: ...
    def deliver_message(self, message: SimMessage, status_callback: str | None) -> None: ...


SIM_KEY: web.AppKey[TwilioSimulator] = web.AppKey("sim")
PREFIX = f"/{API_VERSION}/Accounts/{{account}}"
# E.164, or the client:/sip: forms Twilio also dials.
_DIALABLE = re.compile(r"^(\+[1-9]\d{6,14}|client:\S+|sip:\S+)$")


def json_error(code: int, headers: dict[str, str] | None = None, **fmt: Any) -> web.Response:
    status, body = error_body(code, **fmt)
    return web.json_response(body, status=status, headers=headers)


def _authorized(request: web.Request, sim: TwilioSimulator) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    token_ok = any(hmac.compare_digest(password.encode(), t.encode()) for t in sim.auth_tokens)
    account = request.match_info.get("account")  # None on an unknown path: answer 404 after auth
    return token_ok and user == sim.account_sid and account in (None, sim.account_sid)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def rest_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    sim: TwilioSimulator = request.app[SIM_KEY]
    if not request.path.startswith(f"/{API_VERSION}/"):
        return await handler(request)
    params = dict(await request.post()) if request.method == "POST" else dict(request.query)
    entry: dict[str, Any] = {"method": request.method, "path": request.path, "params": params}
    sim.requests.append(entry)
    if not _authorized(request, sim):
        resp: web.StreamResponse = json_error(20003, {"WWW-Authenticate": 'Basic realm="Twilio API"'})
    else:
        try:
            resp = await handler(request)
        except web.HTTPNotFound:
            resp = json_error(20404, path=request.path)
    entry["status"] = resp.status
    return resp


def _as_lists(form: MultiDictProxy[Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in form.items():
        out.setdefault(key, []).append(str(value))
    return out


def _check_number(sim: TwilioSimulator, to: str, from_: str) -> web.Response | None:
    behavior = sim.personas.for_number(to).behavior
    if not _DIALABLE.match(to) or to == from_ or behavior is Behavior.INVALID:
        return json_error(21211, to=to)
    if behavior is Behavior.UNVERIFIED:
        return json_error(21219, to=to)
    if behavior is Behavior.THROTTLED:
        return json_error(20429, {"Twilio-Concurrent-Requests": "100"})
    return None


async def create_call(request: web.Request) -> web.StreamResponse:
    sim: TwilioSimulator = request.app[SIM_KEY]
    form = _as_lists(await request.post())
    to, from_ = (form.get("To") or [""])[0], (form.get("From") or [""])[0]
    if not to:
        return json_error(21201)
    if not from_:
        return json_error(21213)
    if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
        return json_error(21205)
    fault = sim.take_fault()
    if fault is not None and fault.code is not None:
        return json_error(fault.code, {"Twilio-Concurrent-Requests": "100"} if fault.code == 20429 else None)
    rejected = _check_number(sim, to, from_)
    if rejected is not None:
        return rejected
    call = SimCall(sid=new_sid("CA"), account_sid=sim.account_sid, to=to, from_=from_, params=form)
    sim.start_call(call)
    body = call.as_json()  # snapshot: a fast call must still answer "queued" here
    if fault is not None and fault.delay:
        # The call is placed but the answer comes too late: the client's IN_DOUBT case.
        await asyncio.sleep(fault.delay)
    return web.json_response(body, status=201)


def _find_call(request: web.Request) -> SimCall:
    sim: TwilioSimulator = request.app[SIM_KEY]
    call = sim.calls.get(request.match_info["sid"])
    if call is None:
        raise web.HTTPNotFound()
    return call


async def fetch_call(request: web.Request) -> web.StreamResponse:
    return web.json_response(_find_call(request).as_json())


async def update_call(request: web.Request) -> web.StreamResponse:
    call = _find_call(request)
    form = await request.post()
    status = str(form.get("Status", ""))
    if status not in {"", "canceled", "completed"}:
        return json_error(21220, detail=f"Status {status!r}")
    live = call.status not in {"completed", "busy", "no-answer", "failed", "canceled"}
    # canceled only applies before answer; completed hangs up whatever state it is in.
    if status and live and (status == "completed" or call.status in {"queued", "ringing"}):
        call.hangup_requested = status
        call.wakeup.set()
        await asyncio.wait_for(call.done.wait(), timeout=15)
    return web.json_response(call.as_json())


def _parse_when(value: str) -> datetime:
    if len(value) == 10:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _page(request: web.Request, key: str, items: list[dict[str, Any]]) -> web.Response:
    size = int(request.query.get("PageSize", "50"))
    uri = request.path_qs
    return web.json_response(
        {
            key: items[:size],
            "end": max(0, min(size, len(items)) - 1),
            "first_page_uri": uri,
            "next_page_uri": None,
            "page": 0,
            "page_size": size,
            "previous_page_uri": None,
            "start": 0,
            "uri": uri,
        }
    )


async def list_calls(request: web.Request) -> web.StreamResponse:
    sim: TwilioSimulator = request.app[SIM_KEY]
    q = request.query
    try:
        after = _parse_when(q["StartTime>"]) if "StartTime>" in q else None
        before = _parse_when(q["StartTime<"]) if "StartTime<" in q else None
    except ValueError:
        return json_error(21220, detail="StartTime")
    calls = sorted(sim.calls.values(), key=lambda c: c.created_at, reverse=True)
    selected = [
        c
        for c in calls
        if q.get("To", c.to) == c.to
        and q.get("From", c.from_) == c.from_
        and q.get("Status", c.status) == c.status
        and (after is None or (c.start_time is not None and c.start_time >= after))
        and (before is None or (c.start_time is not None and c.start_time < before))
    ]
    return _page(request, "calls", [c.as_json() for c in selected])


async def create_message(request: web.Request) -> web.StreamResponse:
    sim: TwilioSimulator = request.app[SIM_KEY]
    form = await request.post()
    to, from_, body = str(form.get("To", "")), str(form.get("From", "")), str(form.get("Body", ""))
    if not to:
        return json_error(21201)
    if not from_:
        return json_error(21213)
    if not body:
        return json_error(21602)
    fault = sim.take_fault()
    if fault is not None and fault.code is not None:
        return json_error(fault.code)
    rejected = _check_number(sim, to, from_)
    if rejected is not None:
        return rejected
    message = SimMessage(sid=new_sid("SM"), account_sid=sim.account_sid, to=to, from_=from_, body=body)
    sim.messages.append(message)
    snapshot = message.as_json()
    sim.deliver_message(message, str(form.get("StatusCallback", "")) or None)
    return web.json_response(snapshot, status=201)


async def list_messages(request: web.Request) -> web.StreamResponse:
    sim: TwilioSimulator = request.app[SIM_KEY]
    q = request.query
    selected = [
        m.as_json()
        for m in reversed(sim.messages)
        if q.get("To", m.to) == m.to and q.get("From", m.from_) == m.from_
    ]
    return _page(request, "messages", selected)


def add_routes(app: web.Application) -> None:
    app.router.add_post(PREFIX + "/Calls.json", create_call)
    app.router.add_get(PREFIX + "/Calls.json", list_calls)
    app.router.add_get(PREFIX + "/Calls/{sid}.json", fetch_call)
    app.router.add_post(PREFIX + "/Calls/{sid}.json", update_call)
    app.router.add_post(PREFIX + "/Messages.json", create_message)
    app.router.add_get(PREFIX + "/Messages.json", list_messages)
