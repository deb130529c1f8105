"""The Twilio simulator fails and waits where Twilio does (issue 17 item 19): calls over the
account's calls-per-second are queued, not refused, and ``loop`` on ``<Say>``/``<Play>`` means what
Twilio says (N plays; 0 until the call ends or a key cuts it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from koban.fakes.twilio import TwilioSimulator
from tests.fakes.test_twilio_simulator import ALICE, CALLER, CAROL, TOKEN, make_client

PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Play loop="2">https://sounds.example/siren.mp3</Play>
  <Gather numDigits="1" timeout="2" action="/gather"><Say loop="0">Press 1.</Say></Gather>
  <Say loop="x">bad loop</Say>
</Response>"""
BYE = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>'


@pytest.fixture
async def twiml() -> AsyncIterator[str]:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(text=BYE if request.path == "/gather" else PAGE, content_type="text/xml")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_calls_over_one_a_second_are_queued_not_refused():
    async with TwilioSimulator(TOKEN, personas={"default": "no-answer"}, speed=1) as sim:
        client = make_client(sim)
        calls = [
            await asyncio.to_thread(client.calls.create, to=CAROL, from_=CALLER, url="http://127.0.0.1:9/x")
            for _ in range(3)
        ]
        assert [c.status for c in calls] == ["queued"] * 3
        waits = [sim.calls[c.sid].queued_for for c in calls]
        assert waits[0] < 0.5 and waits[1] < waits[2] and waits[2] > 1.0  # one dial a second


async def test_loop_plays_n_times_and_zero_plays_until_a_key_cuts_it(twiml):
    async with TwilioSimulator(TOKEN, personas={"numbers": {ALICE: "ack"}}, speed=50) as sim:
        call = await asyncio.to_thread(
            make_client(sim).calls.create, to=ALICE, from_=CALLER, url=f"{twiml}/page"
        )
        done = await sim.wait_for_call(call.sid)
    play, prompt = done.spoken
    assert (play["verb"], play["loop"], play["plays"]) == ("Play", 2, 2)
    assert (prompt["verb"], prompt["loop"], prompt["plays"], prompt["interrupted"]) == ("Say", 0, 1, True)
    assert done.digits == ["1"]


async def test_a_loop_that_is_not_a_number_is_a_twiml_error(twiml):
    async with TwilioSimulator(TOKEN, personas={"numbers": {ALICE: "silent"}}, speed=200) as sim:
        call = await asyncio.to_thread(
            make_client(sim).calls.create, to=ALICE, from_=CALLER, url=f"{twiml}/page"
        )
        done = await sim.wait_for_call(call.sid, within=60)
    assert any(e["code"] == 12200 and "loop" in e["message"] for e in done.errors)
