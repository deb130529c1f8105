"""Why nothing happened, in the person's language: a Japanese person acknowledging an incident already
resolved is told so in Japanese by SMS, on the phone (the key they pressed), on a signed link's page
(the browser's Accept-Language) and in a Slack click's answer; an English person reads it as before,
and the timeline and the audit trail keep the English."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp

from koban.channels.actions import IncidentAction
from koban.channels.sms.replies import incident_code
from koban.channels.voice.config import token_secret
from koban.channels.voice.tokens import Claims, sign
from tests.channels.slack.engine_rig import slack_rig
from tests.channels.voice.engine_rig import PHONES, koban_and_simulator
from tests.support.factories import make_alert
from tests.support.system import drain

RINGING = {"numbers": {PHONES["alice"]: {"behavior": "no-answer"}}}
JA_ALREADY = "インシデントはすでに carol さんが解決済みにしています"
EN_ALREADY = "incident is already resolved by carol"


async def test_a_japanese_person_is_told_in_japanese_by_sms_phone_and_link(db_url, tmp_path):
    async with koban_and_simulator(
        db_url, tmp_path, personas=RINGING, speed=1, via=["phone", "text"], languages={"alice": "ja-JP"}
    ) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        inc = res.incident_id
        await rig.wait_for(inc, "notification.sent", actor="alice")
        for _ in range(500):  # both of alice's pages (the call and the text) are out
            if [m for m in rig.sim.messages if m.to == PHONES["alice"]] and rig.calls_to("alice"):
                break
            await asyncio.sleep(0.02)
        done = await rig.k.actions.act(inc, IncidentAction.RESOLVE, actor="carol", via="api")
        assert done.ok
        code = incident_code(inc, [token_secret(rig.k.signing_key)])

        status, body = await rig.sim.reply_sms(PHONES["alice"], f"1 {code}")
        assert status == 200 and f"#{inc}: {JA_ALREADY}" in body
        status, body = await rig.sim.reply_sms(PHONES["bob"], f"1 {code}")  # bob reads English
        assert status == 200 and f"#{inc}: {EN_ALREADY}" in body

        # alice presses 1 on her call's menu.
        call = await rig.delivery("phone/alice")
        claims = Claims(call["key"], "gather", int(time.time()) + 600, "alice-menu")
        gather = f"{rig.url}/twilio/voice/gather?t={sign(token_secret(rig.k.signing_key), claims)}"
        status, text = await rig.send(gather, {"CallSid": "CA-alice", "Digits": "1"})
        assert status == 200 and JA_ALREADY in text and "<Hangup" in text

        # alice's Ack link from her text, opened in a Japanese browser, then replayed.
        [page] = [m for m in rig.sim.messages if m.to == PHONES["alice"] and m.direction != "inbound"]
        link = re.search(r"(http://\S+/l/\S+)", page.body)
        assert link, page.body
        async with aiohttp.ClientSession(headers={"Accept-Language": "ja,en;q=0.5"}) as http:
            async with http.post(link[1]) as resp:
                assert resp.status == 409 and JA_ALREADY in await resp.text()
            async with http.post(link[1]) as resp:
                text = await resp.text()
                assert resp.status == 409
                used = "このリンクはすでに使用されています (リンクは一度だけ使えます)"
                assert f"{used}。インシデント {inc} は carol さんが解決済みにしています" in text

        refusals = [e for e in await rig.timeline(inc) if e["kind"] == "action.refused"]
        assert [e["data"]["reason"] for e in refusals] == [
            EN_ALREADY,
            EN_ALREADY,
            EN_ALREADY,
            EN_ALREADY,
            f"this link was already used (each link works once); incident {inc} is resolved by carol",
        ]


async def test_a_japanese_persons_slack_click_is_answered_in_japanese(db_url, tmp_path):
    async with slack_rig(db_url, tmp_path, languages={"bob": "ja-JP"}) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        await drain(rig.k)
        [msg] = rig.fake.messages
        await rig.k.actions.act(res.incident_id, IncidentAction.RESOLVE, actor="carol", via="api")

        assert await rig.fake.click(msg["ts"], "ack", "U_BOB") == 200
        assert await rig.fake.click(msg["ts"], "ack", "U_ALICE") == 200
        for _ in range(500):  # the answer goes to response_url after the 200
            if len(rig.fake.responses) == 2:
                break
            await asyncio.sleep(0.02)
        texts = sorted(r["body"]["text"] for r in rig.fake.responses)
        assert texts == sorted([JA_ALREADY, EN_ALREADY])
