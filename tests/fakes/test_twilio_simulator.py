"""The Twilio simulator against the official twilio library and a small TwiML app of the test's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from koban.fakes.twilio import TwilioSimulator

TOKEN = "sim-secret"
ALICE, BOB, CAROL, DAVE, ERIN, FRANK = (f"+1555000000{i}" for i in range(1, 7))
CALLER = "+15005550006"
PERSONAS = {
    "numbers": {
        ALICE: "ack",
        BOB: "busy",
        CAROL: "no-answer",
        DAVE: "voicemail",
        ERIN: "silent",
        FRANK: "repeat-then-ack",
        "+15550000099": "invalid",
    }
}
EVENTS = ["initiated", "ringing", "answered", "completed"]


@dataclass
class TwimlApp:
    """A paging app in miniature: Gather one key, Redirect once when nothing is pressed."""

    url: str = ""
    hits: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    forged: int = 0

    def handler(self, validator: RequestValidator) -> Any:
        async def handle(request: web.Request) -> web.Response:
            form = {k: str(v) for k, v in (await request.post()).items()}
            url = f"{self.url}{request.path_qs}"
            if not validator.validate(url, form, request.headers.get("X-Twilio-Signature", "")):
                self.forged += 1
                return web.Response(status=403)
            self.hits.append((request.path, form))
            vr = VoiceResponse()
            if request.path == "/twiml":
                plays = int(request.query.get("plays", "0"))
                gather = vr.gather(num_digits=1, timeout=2, action="/gather")
                gather.say("Disk full on db-1. Press 1.", voice="Polly.Joanna", language="en-US")
                if plays < 1:
                    vr.redirect(f"/twiml?plays={plays + 1}")
                else:
                    vr.hangup()
            elif request.path == "/gather":
                digits = form.get("Digits", "")
                if digits == "*":
                    vr.redirect("/twiml")
                else:
                    vr.say(f"You pressed {digits}. Goodbye.")
                    vr.hangup()
            return web.Response(text=str(vr), content_type="text/xml")

        return handle


@pytest.fixture
async def sim() -> AsyncIterator[TwilioSimulator]:
    async with TwilioSimulator(TOKEN, personas=PERSONAS, speed=50) as s:
        yield s


@pytest.fixture
async def app() -> AsyncIterator[TwimlApp]:
    twiml = TwimlApp()
    web_app = web.Application()
    web_app.router.add_route("*", "/{tail:.*}", twiml.handler(RequestValidator(TOKEN)))
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    twiml.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield twiml
    await runner.cleanup()


def make_client(sim: TwilioSimulator, token: str = TOKEN) -> Client:
    client = Client(sim.account_sid, token, http_client=TwilioHttpClient(timeout=5))
    client.api.base_url = sim.url
    return client


async def place(sim: TwilioSimulator, app: TwimlApp, to: str, **kw: Any) -> Any:
    client = make_client(sim)
    return await asyncio.to_thread(
        client.calls.create,
        to=to,
        from_=CALLER,
        url=f"{app.url}/twiml",
        status_callback=f"{app.url}/status",
        status_callback_event=EVENTS,
        timeout=kw.pop("timeout", 5),
        machine_detection="Enable",
        **kw,
    )


def statuses(app: TwimlApp) -> list[str]:
    return [form["CallStatus"] for path, form in app.hits if path == "/status"]


def paths(app: TwimlApp) -> list[str]:
    return [path for path, _ in app.hits]


async def test_create_answers_201_queued_and_fetch_returns_the_call(sim, app):
    call = await place(sim, app, ALICE)
    assert call.sid.startswith("CA") and len(call.sid) == 34
    assert call.status == "queued" and call.to == ALICE and call._from == CALLER
    assert call.direction == "outbound-api" and call.api_version == "2010-04-01"
    await sim.wait_for_call(call.sid)
    fetched = await asyncio.to_thread(make_client(sim).calls(call.sid).fetch)
    assert fetched.status == "completed" and fetched.answered_by == "human"
    assert fetched.start_time is not None and fetched.end_time is not None
    assert sim.requests[0]["method"] == "POST" and sim.requests[0]["params"]["To"] == ALICE


async def test_ack_persona_presses_1_through_gather_and_callbacks_are_signed_in_order(sim, app):
    call = await place(sim, app, ALICE)
    done = await sim.wait_for_call(call.sid)
    assert paths(app) == ["/status", "/status", "/status", "/twiml", "/gather", "/status"]
    assert statuses(app) == ["initiated", "ringing", "in-progress", "completed"]
    seqs = [int(f["SequenceNumber"]) for p, f in app.hits if p == "/status"]
    assert seqs == [0, 1, 2, 3]
    gather_form = app.hits[4][1]
    assert gather_form["Digits"] == "1" and gather_form["CallStatus"] == "in-progress"
    final = app.hits[-1][1]
    for name in ("CallSid", "AccountSid", "From", "To", "Caller", "Called", "ApiVersion", "Direction"):
        assert final[name]
    assert final["CallbackSource"] == "call-progress-events" and final["AnsweredBy"] == "human"
    assert "CallDuration" in final and "Timestamp" in final
    assert done.digits == ["1"] and app.forged == 0
    assert done.spoken[0]["voice"] == "Polly.Joanna" and done.spoken[0]["language"] == "en-US"


async def test_busy_persona_reports_busy_and_no_twiml_fetch(sim, app):
    call = await place(sim, app, BOB)
    await sim.wait_for_call(call.sid)
    assert statuses(app) == ["initiated", "ringing", "busy"]
    assert "/twiml" not in paths(app)


async def test_no_answer_persona_rings_until_timeout_then_reports_no_answer(sim, app):
    call = await place(sim, app, CAROL, timeout=10)
    await sim.wait_for_call(call.sid)
    assert statuses(app) == ["initiated", "ringing", "no-answer"]
    assert "/twiml" not in paths(app)


async def test_voicemail_persona_is_answered_by_machine_and_presses_nothing(sim, app):
    call = await place(sim, app, DAVE)
    done = await sim.wait_for_call(call.sid)
    assert statuses(app) == ["initiated", "ringing", "in-progress", "completed"]
    twiml_forms = [f for p, f in app.hits if p == "/twiml"]
    assert twiml_forms[0]["AnsweredBy"] == "machine_start"
    assert done.digits == [] and "/gather" not in paths(app)


async def test_silent_persona_hears_the_message_twice_then_the_call_ends_without_a_key(sim, app):
    call = await place(sim, app, ERIN)
    done = await sim.wait_for_call(call.sid)
    assert paths(app).count("/twiml") == 2 and "/gather" not in paths(app)
    assert len(done.spoken) == 2 and done.digits == []
    assert statuses(app)[-1] == "completed"


async def test_star_asks_for_a_repeat_and_the_next_gather_gets_the_next_key(sim, app):
    call = await place(sim, app, FRANK)
    done = await sim.wait_for_call(call.sid)
    assert done.digits == ["*", "1"]
    assert [f["Digits"] for p, f in app.hits if p == "/gather"] == ["*", "1"]


async def test_invalid_number_raises_21211_as_twilio_rest_exception(sim, app):
    with pytest.raises(TwilioRestException) as err:
        await place(sim, app, "+15550000099")
    assert err.value.status == 400 and err.value.code == 21211
    assert "not a valid phone number" in err.value.msg
    with pytest.raises(TwilioRestException) as err:
        await place(sim, app, "12345")
    assert err.value.code == 21211
    assert sim.calls == {}


async def test_scripted_fault_answers_429_with_code_20429(sim, app):
    sim.fail_next(20429)
    with pytest.raises(TwilioRestException) as err:
        await place(sim, app, ALICE)
    assert err.value.status == 429 and err.value.code == 20429
    call = await place(sim, app, ALICE)  # the fault was used up
    assert call.status == "queued"


async def test_wrong_auth_token_is_401_with_code_20003(sim):
    client = make_client(sim, token="wrong")
    with pytest.raises(TwilioRestException) as err:
        await asyncio.to_thread(client.calls.create, to=ALICE, from_=CALLER, url="http://127.0.0.1:9/x")
    assert err.value.status == 401 and err.value.code == 20003


async def test_unknown_call_sid_is_404_with_code_20404(sim):
    with pytest.raises(TwilioRestException) as err:
        await asyncio.to_thread(make_client(sim).calls("CA" + "f" * 32).fetch)
    assert err.value.status == 404 and err.value.code == 20404


async def test_list_filters_by_to_and_cancel_stops_a_ringing_call(sim, app):
    ringing = await place(sim, app, CAROL, timeout=600)
    other = await place(sim, app, BOB)
    client = make_client(sim)
    listed = await asyncio.to_thread(client.calls.list, to=CAROL)
    assert [c.sid for c in listed] == [ringing.sid]
    await asyncio.sleep(0.05)
    updated = await asyncio.to_thread(client.calls(ringing.sid).update, status="canceled")
    assert updated.status == "canceled"
    await sim.wait_for_call(other.sid)
    assert "canceled" in statuses(app)


async def test_messages_are_recorded_and_an_sms_reply_is_posted_signed(sim):
    received: list[dict[str, str]] = []

    async def inbound(request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        url = f"http://127.0.0.1:{request.url.port}{request.path_qs}"
        ok = RequestValidator(TOKEN).validate(url, form, request.headers["X-Twilio-Signature"])
        received.append(form)
        return web.Response(status=200 if ok else 403, text="<Response/>", content_type="text/xml")

    web_app = web.Application()
    web_app.router.add_post("/sms", inbound)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        sim.sms_url = f"http://127.0.0.1:{runner.addresses[0][1]}/sms"
        msg = await asyncio.to_thread(make_client(sim).messages.create, to=ALICE, from_=CALLER, body="hi")
        assert msg.sid.startswith("SM") and msg.status == "queued" and msg.body == "hi"
        status, _ = await sim.reply_sms(ALICE, "1 42K")
        assert status == 200 and received[0]["Body"] == "1 42K" and received[0]["From"] == ALICE
        async with aiohttp.ClientSession() as s, s.get(f"{sim.url}/_sim/messages") as resp:
            bodies = [m["body"] for m in (await resp.json())["messages"]]
        assert bodies == ["hi", "1 42K"]
    finally:
        await runner.cleanup()


async def test_inspection_endpoint_lists_calls_with_what_was_heard(sim, app):
    call = await place(sim, app, ALICE)
    await sim.wait_for_call(call.sid)
    async with aiohttp.ClientSession() as s, s.get(f"{sim.url}/_sim/calls") as resp:
        calls = (await resp.json())["calls"]
    assert calls[0]["sid"] == call.sid and calls[0]["digits"] == ["1"]
    assert calls[0]["url"] == f"{app.url}/twiml" and calls[0]["spoken"]
