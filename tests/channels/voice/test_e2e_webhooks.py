"""The Twilio webhooks of a running koban, over real HTTP: forged, replayed and malformed requests."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koban.channels.sms.replies import incident_code
from koban.channels.voice.config import token_secret
from koban.channels.voice.tokens import Claims, sign
from tests.channels.voice.engine_rig import PHONES, koban_and_simulator
from tests.support.factories import make_alert

RINGING = {"numbers": {PHONES["alice"]: {"behavior": "no-answer"}}}
SILENT_ACK = {"numbers": {PHONES["alice"]: {"preset": "ack", "press_after": 0.5}}}
PATHS = ["/twilio/voice/twiml", "/twilio/voice/gather", "/twilio/voice/status", "/twilio/sms/inbound"]


async def first_call(rig, person: str = "alice"):
    for _ in range(400):
        if rig.calls_to(person):
            return rig.calls_to(person)[0]
        await asyncio.sleep(0.025)
    raise AssertionError(f"{person} was never called")


async def test_forged_or_unsigned_status_callbacks_get_403_and_change_nothing(db_url, tmp_path):
    async with koban_and_simulator(db_url, tmp_path, personas=RINGING, speed=1) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        call = await first_call(rig)
        await rig.wait_for(res.incident_id, "call.ringing")
        status_url = call.param("StatusCallback")
        before = await rig.timeline(res.incident_id)
        busy = {
            "CallSid": call.sid,
            "CallStatus": "busy",
            "SequenceNumber": "9",
            "AccountSid": call.account_sid,
        }
        assert await rig.post(status_url, busy, token=None) == 403
        assert await rig.post(status_url, busy, token="not-the-auth-token") == 403
        forged = (
            status_url.split("?t=")[0]
            + "?t="
            + sign("guessed-secret-123456", Claims("x", "status", 2**40, "i"))
        )
        assert await rig.post(forged, busy) == 403
        assert await rig.timeline(res.incident_id) == before
        assert (await rig.delivery("phone/alice"))["state"] in ("awaiting", "sending")


async def test_a_replayed_twiml_or_gather_token_acts_no_more(db_url, tmp_path):
    async with koban_and_simulator(db_url, tmp_path, personas=SILENT_ACK) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        call = await rig.sim.wait_for_call((await first_call(rig)).sid)
        await rig.wait_for(res.incident_id, "acknowledged")
        fetched = {e["kind"]: e for e in call.events if e["kind"] in ("twiml", "gather")}
        assert fetched["twiml"]["http_status"] == 200 and fetched["gather"]["http_status"] == 200
        assert await rig.post(fetched["twiml"]["url"], fetched["twiml"]["params"]) == 403
        resolve = {**fetched["gather"]["params"], "Digits": "3"}
        # Spoken back (a 403 would make the caller hear "application error"), and nothing acts.
        assert await rig.post(fetched["gather"]["url"], resolve) == 200
        assert (await rig.incident(res.incident_id))["status"] == "acknowledged"


async def test_sms_reply_from_a_known_number_acknowledges_the_named_incident(db_url, tmp_path):
    async with koban_and_simulator(db_url, tmp_path, personas=RINGING, speed=1, via=["phone", "text"]) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        await rig.wait_for(res.incident_id, "notification.sent", via="text")
        [page] = [m for m in rig.sim.messages if m.to == PHONES["alice"]]
        code = incident_code(res.incident_id, [token_secret(rig.k.signing_key)])
        assert f"Reply 1 {code}" in page.body
        status, body = await rig.sim.reply_sms("+15559999999", f"1 {code}")
        assert status == 200 and "not registered" in body
        status, body = await rig.sim.reply_sms(PHONES["bob"], f"1 {code}")
        assert status == 200 and "acknowledged" in body
        ack = await rig.wait_for(res.incident_id, "acknowledged")
        assert (ack["actor"], ack["via"]) == ("bob", "sms")


async def test_bad_input_on_every_twilio_endpoint_is_a_clear_4xx(db_url, tmp_path):
    async with koban_and_simulator(db_url, tmp_path, personas=RINGING, speed=1) as rig:
        secret = token_secret(rig.k.signing_key)
        good = sign(secret, Claims("1:0:phone/alice:0", "status", 2**40, "id1"))
        base = rig.url
        table = [
            (f"{base}{PATHS[0]}?t=garbage", {"CallSid": "CA1"}, "sim-auth-token", 403),
            (f"{base}{PATHS[1]}", {"Digits": "1"}, "sim-auth-token", 403),
            (f"{base}{PATHS[2]}?t={good}", {"CallSid": "CA1"}, "sim-auth-token", 400),
            (
                f"{base}{PATHS[2]}?t={good}",
                {"CallSid": "CA1", "CallStatus": "busy", "SequenceNumber": "x"},
                "sim-auth-token",
                400,
            ),
            (f"{base}{PATHS[3]}", {"Body": "1 1A"}, "sim-auth-token", 400),
            (f"{base}{PATHS[3]}", {"From": PHONES["bob"], "Body": "1 1A"}, None, 403),
        ]
        for url, form, token, expected in table:
            assert await rig.post(url, form, token=token) == expected, (url, form)

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        @given(
            path=st.sampled_from(PATHS),
            query=st.sampled_from(["", "?t=", f"?t={good}", "?t=a.b", "?t=%00"]),
            form=st.dictionaries(
                st.sampled_from(
                    ["CallSid", "CallStatus", "SequenceNumber", "Digits", "From", "Body", "CallDuration"]
                ),
                st.text(max_size=20),
                max_size=6,
            ),
            signed=st.booleans(),
        )
        def fuzz(path: str, query: str, form: dict[str, str], signed: bool) -> None:
            statuses.append((path + query, form, signed))

        statuses: list = []
        fuzz()
        for target, form, signed in statuses:
            code = await rig.post(base + target, form, token="sim-auth-token" if signed else None)
            assert code < 500, (target, form, code)
            if not signed:
                assert code == 403
