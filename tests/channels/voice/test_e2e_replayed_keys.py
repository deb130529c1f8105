"""Keypad presses over real HTTP, replayed: the same signed gather request sent again, or 2 pressed on
a call the escalation has moved past, passes the incident on once, and the answer says why."""

from __future__ import annotations

import time

from koban.channels.voice.config import token_secret
from koban.channels.voice.tokens import Claims, sign
from tests.channels.voice.engine_rig import PHONES, koban_and_simulator
from tests.support.factories import make_alert

# alice presses 2 (pass on), bob then presses 1; carol must never be called.
PASS_ON = {"numbers": {PHONES["alice"]: "escalate", PHONES["bob"]: "ack", PHONES["carol"]: "ack"}}


def gather_of(call) -> tuple[str, dict[str, str]]:
    [event] = [e for e in call.events if e["kind"] == "gather"]
    return event["url"], event["params"]


async def test_a_replayed_or_late_key_press_acts_once_and_says_why(db_url, tmp_path):
    async with koban_and_simulator(db_url, tmp_path, personas=PASS_ON) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        inc = res.incident_id
        await rig.wait_for(inc, "acknowledged", within=30)
        [alice_call], [bob_call] = rig.calls_to("alice"), rig.calls_to("bob")
        await rig.sim.wait_for_call(alice_call.sid)
        await rig.sim.wait_for_call(bob_call.sid)

        # Twilio's request for alice's 2, sent again (same signed URL, CallSid and Digits).
        url, form = gather_of(alice_call)
        assert form["Digits"] == "2"
        status, text = await rig.send(url, form)
        assert status == 200 and "this key press was already handled" in text and "<Hangup" in text
        assert f"incident {inc} is acknowledged by bob" in text

        # A fresh gather on alice's call (she pressed * and listened again), pressing 2 now.
        alice = await rig.delivery("phone/alice")
        claims = Claims(alice["key"], "gather", int(time.time()) + 600, "a-later-menu")
        later = f"{rig.url}/twilio/voice/gather?t={sign(token_secret(rig.k.signing_key), claims)}"
        status, text = await rig.send(later, form)
        assert status == 200 and "already escalated to step 2 by alice" in text and "<Hangup" in text

        url, form = gather_of(bob_call)
        status, text = await rig.send(url, form)
        assert status == 200 and "acknowledged by bob" in text

        assert len(rig.calls_to("bob")) == 1 and rig.calls_to("carol") == []
        assert await rig.escalated_by(inc) == ["alice"]
        assert await rig.refusals(inc) == [
            ("alice", "voice", "escalate"),
            ("alice", "voice", "escalate"),
            ("bob", "voice", "acknowledge"),
        ]
        assert await rig.trail(inc) == [
            ("incident.escalate", "alice", "keypad"),
            ("incident.acknowledge", "bob", "keypad"),
            ("incident.escalate.refused", "alice", "keypad"),
            ("incident.escalate.refused", "alice", "keypad"),
            ("incident.acknowledge.refused", "bob", "keypad"),
        ]
