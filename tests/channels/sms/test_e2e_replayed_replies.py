"""SMS replies over real HTTP, replayed: a resent Twilio webhook (same MessageSid) and a second "2"
to a page the escalation has moved past pass the incident on once, and the answer says why."""

from __future__ import annotations

from koban.channels.sms.replies import incident_code
from koban.channels.voice.config import token_secret
from tests.channels.voice.engine_rig import PHONES, koban_and_simulator
from tests.support.factories import make_alert

RINGING = {"numbers": {PHONES["alice"]: {"behavior": "no-answer"}}}


def texts_to(rig, person: str) -> list:
    return [m for m in rig.sim.messages if m.to == PHONES[person] and m.direction != "inbound"]


async def test_a_resent_or_late_pass_on_by_sms_escalates_once_and_says_why(db_url, tmp_path):
    async with koban_and_simulator(db_url, tmp_path, personas=RINGING, speed=1, via=["text"]) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        inc = res.incident_id
        await rig.wait_for(inc, "notification.sent", actor="alice")
        code = incident_code(inc, [token_secret(rig.k.signing_key)])

        status, body = await rig.sim.reply_sms(PHONES["alice"], f"2 {code}")
        assert status == 200 and f"incident {inc} triggered" in body
        first_sid = rig.sim.messages[-1].sid
        await rig.wait_for(inc, "notification.sent", actor="bob")

        # Twilio resends the same webhook (its first answer was lost): handled once.
        status, body = await rig.sim.reply_sms(PHONES["alice"], f"2 {code}", sid=first_sid)
        assert status == 200 and "this message was already handled" in body
        assert f"incident {inc} is triggered at step 2" in body
        # alice answers her (old) page again: it is taken against the step that page was sent for.
        status, body = await rig.sim.reply_sms(PHONES["alice"], f"2 {code}")
        assert "already escalated to step 2 by alice" in body

        # Acknowledging twice: the second is a no-op that names who acknowledged.
        assert "acknowledged" in (await rig.sim.reply_sms(PHONES["bob"], f"1 {code}"))[1]
        status, body = await rig.sim.reply_sms(PHONES["bob"], f"ack {code}")
        assert "already acknowledged by bob" in body

        assert len(texts_to(rig, "bob")) == 1 and texts_to(rig, "carol") == []
        assert await rig.escalated_by(inc) == ["alice"]
        assert await rig.refusals(inc) == [
            ("alice", "sms", "escalate"),
            ("alice", "sms", "escalate"),
            ("bob", "sms", "acknowledge"),
        ]
        assert await rig.trail(inc) == [
            ("incident.escalate", "alice", "sms"),
            ("incident.escalate.refused", "alice", "sms"),
            ("incident.escalate.refused", "alice", "sms"),
            ("incident.acknowledge", "bob", "sms"),
            ("incident.acknowledge.refused", "bob", "sms"),
        ]
