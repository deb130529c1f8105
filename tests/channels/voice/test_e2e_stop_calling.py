"""Once an incident is over, its phones stop: a ringing call is canceled at once, nobody else is
called, and a call already answered hears that the incident is over instead of a menu."""

from __future__ import annotations

import asyncio
import time

from koban.channels.actions import IncidentAction
from koban.fakes.twilio.personas import Behavior, Persona
from tests.channels.voice.engine_rig import PHONES, koban_and_simulator
from tests.support.factories import make_alert

LONG_RING = {"channel": {"ring_timeout": 20}}


async def _ringing(rig, person: str, within: float = 20.0):  # noqa: ANN001, ANN202
    for _ in range(int(within / 0.02)):
        calls = [c for c in rig.calls_to(person) if c.status == "ringing"]
        if calls:
            return calls[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no call ringing for {person}")


async def test_resolving_mid_ring_cancels_the_call_and_calls_nobody_after(db_url, tmp_path):
    personas = {"numbers": {PHONES["alice"]: "no-answer"}, "default": "no-answer"}
    async with koban_and_simulator(db_url, tmp_path, personas, speed=1.0, **LONG_RING) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        call = await _ringing(rig, "alice")
        resolved_at = time.monotonic()
        out = await rig.k.actions.act(res.incident_id, IncidentAction.RESOLVE, actor="bob", via="api")
        assert out.ok
        await asyncio.wait_for(call.done.wait(), timeout=10)
        took = time.monotonic() - resolved_at
        # The mechanism is immediate (about 0.1 s when idle); the bound leaves room for a busy machine.
        assert took < 3.0, took
        assert call.status == "canceled"
        hung = await rig.wait_for(res.incident_id, "call.hung_up", actor="alice")
        assert hung["data"]["ref"] == call.sid
        await asyncio.sleep(1.0)
        assert len(rig.calls_to("alice")) == 1 and not rig.calls_to("bob") and not rig.calls_to("carol")
        kinds = [e["kind"] for e in await rig.timeline(res.incident_id)]
        assert kinds.count("call.hung_up") == 1


async def test_a_call_answered_after_the_acknowledgement_hears_it_is_over(db_url, tmp_path):
    silent = Persona(Behavior.ANSWER, answer_after=0.5, press_after=5.0)
    personas = {"numbers": {PHONES["alice"]: silent}}
    async with koban_and_simulator(db_url, tmp_path, personas, speed=4.0) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        for _ in range(500):  # answered: the menu is playing
            if any(c.answered_at for c in rig.calls_to("alice")):
                break
            await asyncio.sleep(0.02)
        call = rig.calls_to("alice")[0]
        out = await rig.k.actions.act(res.incident_id, IncidentAction.ACKNOWLEDGE, actor="bob", via="api")
        assert out.ok
        await asyncio.wait_for(call.done.wait(), timeout=20)
        said = [s["text"] for s in call.spoken]
        assert any("has been acknowledged" in s for s in said), said
        assert call.status == "completed" and not call.digits
