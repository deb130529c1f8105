"""Account-level behaviour in the engine: bad numbers on the contact, token rotation, language, sweeps."""

from __future__ import annotations

from koban.bootstrap.wiring.twilio_sweep import SweepItem, sweep_plan
from koban.channels.actions import Outcome
from koban.channels.voice.state import CallState
from tests.channels.voice.engine_rig import AUTH_TOKEN, PHONES, koban_and_simulator
from tests.support.factories import make_alert

INVALID_ALICE = {"numbers": {PHONES["alice"]: "invalid", PHONES["bob"]: "ack"}}


async def test_an_invalid_number_is_recorded_on_the_contact_and_skipped_next_time(db_url, tmp_path):
    async with koban_and_simulator(db_url, tmp_path, personas=INVALID_ALICE) as rig:
        [first] = await rig.k.batcher.submit("web-generic", [make_alert("a")])
        await rig.wait_for(first.incident_id, "contact.invalid", actor="alice")
        ack = await rig.wait_for(first.incident_id, "acknowledged")
        assert ack["actor"] == "bob"  # moved on at once, not after the 60 s step timeout
        creates = len(
            [r for r in rig.sim.requests if r["path"].endswith("/Calls.json") and r["method"] == "POST"]
        )
        [second] = await rig.k.batcher.submit("web-generic", [make_alert("b")])
        await rig.wait_for(second.incident_id, "acknowledged")
        after = len(
            [r for r in rig.sim.requests if r["path"].endswith("/Calls.json") and r["method"] == "POST"]
        )
        assert after == creates + 1  # only bob: alice's known-bad number was not dialled again


async def test_two_auth_tokens_during_rotation_and_japanese_speech(db_url, tmp_path):
    rotation = {"auth_token": "new-token", "auth_tokens": [AUTH_TOKEN]}
    personas = {"numbers": {PHONES["alice"]: "ack"}}
    async with koban_and_simulator(
        db_url,
        tmp_path,
        personas=personas,
        sim_kwargs={
            "secondary_auth_token": "new-token"
        },  # REST accepts the new token, webhooks signed with the old
        channel=rotation,
        languages={"alice": "ja-JP"},
    ) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        await rig.wait_for(res.incident_id, "acknowledged", actor="alice")
        call = await rig.sim.wait_for_call(rig.calls_to("alice")[0].sid)
        assert {s["language"] for s in call.spoken} == {"ja-JP"}
        assert {s["voice"] for s in call.spoken} == {"Polly.Mizuki"}


def test_sweep_resettles_settled_states_and_fetches_calls_past_their_deadline():
    rows = [
        {"key": "a", "channel_id": "phone", "provider_ref": "CA1", "sent_at": 100.0},
        {"key": "b", "channel_id": "phone", "provider_ref": "CA2", "sent_at": 100.0},
        {"key": "c", "channel_id": "phone", "provider_ref": None, "sent_at": 100.0},
        {"key": "d", "channel_id": "phone", "provider_ref": "CA4", "sent_at": 190.0},
        {"key": "e", "channel_id": "phone", "provider_ref": "CA5", "sent_at": 100.0},
    ]
    states = {"a": CallState(sid="CA1", status="busy", outcome=Outcome.NOT_REACHED, detail="busy")}
    plan = sweep_plan(rows, states, now=200.0, deadline_after=lambda _: 60.0, not_before={"e": 300.0})
    assert plan == [SweepItem("a", "resettle"), SweepItem("b", "fetch", "CA2")]
