"""A critical alert phones the rotation over real HTTP: alice misses it, bob is busy, carol presses 1."""

from __future__ import annotations

from koban.channels.actions import IncidentAction
from tests.channels.voice.engine_rig import koban_and_simulator
from tests.support.factories import make_alert


async def test_no_answer_and_busy_move_on_until_carol_acknowledges_with_key_1(db_url, tmp_path):
    async with koban_and_simulator(db_url, tmp_path) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        inc = res.incident_id
        ack = await rig.wait_for(inc, "acknowledged", within=30)
        assert (ack["actor"], ack["via"]) == ("carol", "voice")
        timeline = await rig.timeline(inc)
        kinds = [(e["kind"], e["actor"]) for e in timeline]
        assert ("call.no-answer", "alice") in kinds
        assert ("call.busy", "bob") in kinds
        assert ("call.retry_scheduled", "bob") in kinds  # busy: the same person once more
        pressed = [e for e in timeline if e["kind"] == "key.pressed"]
        assert [(e["actor"], e["data"]["digit"]) for e in pressed] == [("carol", "1")]
        assert (
            len(rig.calls_to("alice")) == 1
            and len(rig.calls_to("bob")) == 2
            and len(rig.calls_to("carol")) == 1
        )
        # The key press was confirmed aloud before hanging up.
        carol = rig.calls_to("carol")[0]
        await rig.sim.wait_for_call(carol.sid)
        assert any("Acknowledged" in s["text"] for s in carol.spoken)
        again = await rig.k.actions.act(inc, IncidentAction.ACKNOWLEDGE, actor="bob", via="api")
        assert not again.ok and "carol" in again.message
