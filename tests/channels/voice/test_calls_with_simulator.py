"""The voice channel and its webhooks against the Twilio simulator, one persona per behaviour."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest

from koban.channels.actions import IncidentAction, Outcome
from koban.channels.base import DeliveryStatus, Notification
from koban.channels.voice import (
    MemoryCallStateStore,
    MemoryTokenStore,
    TwilioDeps,
    VoiceChannel,
    build_routes,
    close_client,
    decide_retry,
    end_key_wait,
    settle_overdue_call,
)
from koban.fakes.twilio import TwilioSimulator
from tests.channels.voice.support import AUTH_TOKEN, make_notification, make_settings, serve
from tests.support.actions import RecordingActions

PERSONAS = {
    "numbers": {
        "+15550000001": "ack",
        "+15550000002": "busy",
        "+15550000003": "voicemail",
        "+15550000004": "silent",
        "+15550000005": "escalate",
        "+15550000006": "repeat-then-ack",
        "+15550000007": "no-answer",
        "+15550000099": "invalid",
        "+15550000098": "throttled",
    }
}


@dataclass
class Rig:
    sim: TwilioSimulator
    channel: VoiceChannel
    actions: RecordingActions
    deps: TwilioDeps
    deliveries: dict[str, Notification]

    async def page(self, address: str, person: str = "alice", **kw):
        n = make_notification(address, person, key=f"inc42-s0-{person}-{address[-2:]}", **kw)
        self.deliveries[n.key] = n
        result = await self.channel.send(n)
        assert result.status is DeliveryStatus.SENT, result.error
        assert result.awaits_outcome
        return n, await self.sim.wait_for_call(result.provider_ref)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    actions, deliveries = RecordingActions(), {}

    async def resolve(key: str) -> Notification | None:
        return deliveries.get(key)

    states = MemoryCallStateStore()
    deps = TwilioDeps(make_settings(), actions, MemoryTokenStore(), states, resolve)
    async with (
        serve(build_routes(deps)) as app_url,
        TwilioSimulator(AUTH_TOKEN, personas=PERSONAS, speed=50) as sim,
    ):
        deps.settings = make_settings(public_url=app_url, api_base_url=sim.url, ring_timeout=10)
        channel = VoiceChannel(deps.settings, call_states=states)
        try:
            yield Rig(sim, channel, actions, deps, deliveries)
        finally:
            close_client(channel.client)


def texts(call) -> list[str]:
    return [s["text"] for s in call.spoken]


async def test_pressing_1_acknowledges_as_the_person_via_voice_and_is_confirmed_aloud(rig):
    n, call = await rig.page("+15550000001")
    assert rig.actions.calls == [(42, IncidentAction.ACKNOWLEDGE, "alice", "voice")]
    assert rig.actions.outcomes == [
        (n.key, Outcome.REACHED, {"detail": "key-1", "call_sid": call.sid, "answered_by": "human"})
    ]
    pressed = [
        (kind, actor, data["digit"]) for _, kind, actor, data in rig.actions.notes if kind == "key.pressed"
    ]
    assert pressed == [("key.pressed", "alice", "1")]
    assert texts(call)[0].startswith("Alert from koban. critical incident on db")
    assert texts(call)[-1] == "Acknowledged. Thank you."
    assert call.params["MachineDetection"] == ["Enable"] and call.params["Timeout"] == ["10"]


async def test_progress_callbacks_become_timeline_notes_in_order(rig):
    await rig.page("+15550000001")
    calls = [k for k in rig.actions.kinds() if k.startswith("call.")]
    assert calls == ["call.initiated", "call.ringing", "call.answered", "call.completed"]


async def test_busy_person_is_not_reached_and_gets_one_retry_after_30_seconds(rig):
    n, call = await rig.page("+15550000002", "bob")
    assert rig.actions.outcomes == [
        (n.key, Outcome.NOT_REACHED, {"detail": "busy", "call_sid": call.sid, "answered_by": None})
    ]
    assert not [e for e in call.events if e["kind"] == "twiml"]
    assert decide_retry("busy", 1, rig.channel.settings.retry_rules) == 30


async def test_voicemail_counts_as_not_reached_and_hears_nothing(rig):
    n, call = await rig.page("+15550000003", "carol")
    assert rig.actions.outcomes[0][1:] == (
        Outcome.NOT_REACHED,
        {"detail": "machine", "call_sid": call.sid, "answered_by": "machine_start"},
    )
    assert call.spoken == [] and rig.actions.calls == []


async def test_no_key_hears_the_message_three_times_then_goodbye_and_is_not_reached(rig):
    n, call = await rig.page("+15550000004", "dave")
    messages = [t for t in texts(call) if t.startswith("Alert from koban")]
    assert len(messages) == 3 and texts(call)[-1] == "No key was pressed. Goodbye."
    assert rig.actions.outcomes == []  # held: a key press may still be on its way
    await end_key_wait(rig.deps, n)
    assert (
        rig.actions.outcomes[0][1] is Outcome.NOT_REACHED and rig.actions.outcomes[0][2]["detail"] == "no-key"
    )
    assert rig.actions.calls == []


async def test_pressing_2_passes_to_the_next_person_now(rig):
    n, call = await rig.page("+15550000005", "erin")
    assert rig.actions.calls == [(42, IncidentAction.ESCALATE, "erin", "voice")]
    assert texts(call)[-1] == "Passing this to the next person now."
    assert rig.actions.outcomes[0][2]["detail"] == "key-2"


async def test_star_repeats_the_message_then_1_acknowledges(rig):
    n, call = await rig.page("+15550000006", "frank")
    assert "Repeating the message." in texts(call) and call.digits == ["*", "1"]
    assert [k for k in rig.actions.kinds() if k == "key.pressed"] == ["key.pressed", "key.pressed"]
    assert rig.actions.calls == [(42, IncidentAction.ACKNOWLEDGE, "frank", "voice")]


async def test_japanese_speaker_hears_japanese_with_a_japanese_voice(rig):
    n, call = await rig.page("+15550000001", "hana", language="ja-JP")
    assert {s["voice"] for s in call.spoken} == {"Polly.Mizuki"}
    assert texts(call)[-1] == "確認済みにしました。ありがとうございます。"


async def test_invalid_number_is_permanent_and_throttling_is_transient(rig):
    bad = await rig.channel.send(make_notification("+15550000099"))
    assert bad.status is DeliveryStatus.PERMANENT and "21211" in (bad.error or "")
    slow = await rig.channel.send(make_notification("+15550000098"))
    assert slow.status is DeliveryStatus.TRANSIENT and slow.retry_after
    not_e164 = await rig.channel.send(make_notification("090-1234-5678"))
    assert not_e164.status is DeliveryStatus.PERMANENT


async def test_a_lost_create_answer_is_in_doubt_and_reconcile_finds_the_call_by_its_key(rig):
    rig.channel.client.http_client.timeout = 0.3
    rig.sim.fail_next(delay=1.0)  # the call is placed, the answer comes too late
    n = make_notification("+15550000001", "alice", key="inc42-s0-alice-lost")
    rig.deliveries[n.key] = n
    result = await rig.channel.send(n)
    assert result.status is DeliveryStatus.IN_DOUBT
    (sid,) = rig.sim.calls
    await rig.sim.wait_for_call(sid)
    settled = await rig.channel.reconcile(n, None)  # the callbacks carried the key: the sid is known
    assert settled.status is DeliveryStatus.SENT and settled.provider_ref == sid
    assert len(rig.sim.calls) == 1


async def test_reconcile_says_not_sent_when_no_call_to_that_number_exists(rig):
    n = make_notification("+15550000004", "dave", key="never-sent")
    assert (await rig.channel.reconcile(n, None)).status is DeliveryStatus.NOT_SENT


async def test_an_overdue_ringing_call_is_fetched_canceled_and_settled_once(rig):
    rig.deps.settings = replace(rig.deps.settings, ring_timeout=600)
    channel = VoiceChannel(rig.deps.settings, call_states=rig.deps.call_states)
    try:
        n = make_notification("+15550000007", "gina", key="inc42-s0-gina-1")
        rig.deliveries[n.key] = n
        result = await channel.send(n)
        state = await settle_overdue_call(rig.deps, channel.client, n, result.provider_ref)
    finally:
        close_client(channel.client)
    assert state is not None and state.detail == "canceled"
    assert [o[1:] for o in rig.actions.outcomes] == [
        (Outcome.NOT_REACHED, {"detail": "canceled", "call_sid": result.provider_ref, "answered_by": None})
    ]
