"""Issue 17 item 14, end to end: the completed callback before the key press (the person pressed 1
and hung up at once) ends as in order: the delivery reached, no escalation, the same timeline."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET

from tests.channels.voice.engine_rig import PHONES, Rig, koban_and_simulator
from tests.support.factories import make_alert

RINGING = {"numbers": {PHONES["alice"]: {"behavior": "no-answer"}}}
VOICE_KINDS = ("call.", "key.", "acknowledged", "escalat", "notification.", "delivery.")


async def call_for(rig: Rig, nth: int):
    """The nth call placed to alice (sids are random: order by placing, which the dict keeps)."""
    for _ in range(400):
        calls = rig.calls_to("alice")
        if len(calls) > nth:
            return calls[nth]
        await asyncio.sleep(0.025)
    raise AssertionError("alice was never called")


async def answer_press_and_hang_up(rig: Rig, incident_id: int, nth: int, *, completed_first: bool) -> None:
    """Play Twilio's part by hand: answered, the page, then the key press and completed in either order."""
    call = await call_for(rig, nth)
    await rig.wait_for(incident_id, "call.ringing")
    status_url, base = call.param("StatusCallback"), {"CallSid": call.sid, "AccountSid": call.account_sid}

    def status(name: str, seq: int) -> dict[str, str]:
        extra = {"CallDuration": "9"} if name == "completed" else {}
        return {**base, "CallStatus": name, "SequenceNumber": str(seq), "AnsweredBy": "human", **extra}

    assert await rig.post(status_url, status("in-progress", 50)) == 204
    code, page = await rig.send(call.param("Url"), {**base, "CallStatus": "in-progress"})
    assert code == 200, page
    gather_url = ET.fromstring(page).find("Gather").get("action")  # type: ignore[union-attr]
    key = {**base, "Digits": "1", "CallStatus": "completed" if completed_first else "in-progress"}
    if completed_first:
        assert await rig.post(status_url, status("completed", 51)) == 204
        await asyncio.sleep(0.2)  # the sweeper runs meanwhile; the key is still within the grace
        assert await rig.post(gather_url, key) == 200
    else:
        assert await rig.post(gather_url, key) == 200
        assert await rig.post(status_url, status("completed", 51)) == 204
    await rig.wait_for(incident_id, "call.completed")


def voice_story(timeline: list[dict]) -> list[str]:
    # call.hung_up is left out: the simulator's own call still rings (this test plays Twilio's
    # callbacks by hand), so the acknowledgement's hangup ends it at a moment the test does not order.
    return [e["kind"] for e in timeline if e["kind"].startswith(VOICE_KINDS) and e["kind"] != "call.hung_up"]


async def test_completed_before_the_key_press_ends_as_in_order(db_url, tmp_path):
    async with koban_and_simulator(db_url, tmp_path, personas=RINGING, speed=1) as rig:
        stories, deliveries = [], []
        for nth, completed_first in enumerate((False, True)):
            [res] = await rig.k.batcher.submit("web-generic", [make_alert(key=f"order-{nth}")])
            await answer_press_and_hang_up(rig, res.incident_id, nth, completed_first=completed_first)
            await asyncio.sleep(1.0)  # past the late-key grace (0.5 s in the rig) and a sweep
            assert (await rig.incident(res.incident_id))["status"] == "acknowledged"
            stories.append(voice_story(await rig.timeline(res.incident_id)))
            deliveries.append((await rig.delivery(f"{res.incident_id}:0:phone/alice"))["state"])
        in_order, completed_first = stories
        assert completed_first == in_order
        assert "escalation.exhausted" not in completed_first and "escalated" not in completed_first
        assert completed_first.index("key.pressed") < completed_first.index("call.completed")
        assert deliveries == ["reached", "reached"]
