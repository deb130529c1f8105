"""Twilio answers the call create with 429 / 20429: koban backs off and calls the same person, once."""

from __future__ import annotations

import pytest

from koban.channels.voice import errors
from tests.channels.voice.engine_rig import PHONES, koban_and_simulator
from tests.support.factories import make_alert

ALICE_ACKS = {"numbers": {PHONES["alice"]: "ack", PHONES["bob"]: "ack", PHONES["carol"]: "ack"}}
BACKOFF = 0.5  # the channel's 429 backoff (5 s in production), shortened to keep the real wait small


async def test_429_on_call_create_backs_off_and_calls_the_same_person_exactly_once(
    db_url, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(errors, "RATE_LIMIT_BACKOFF", BACKOFF)
    async with koban_and_simulator(db_url, tmp_path, personas=ALICE_ACKS) as rig:
        rig.sim.fail_next(20429)  # the next Calls create answers HTTP 429, code 20429
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        inc = res.incident_id
        ack = await rig.wait_for(inc, "acknowledged", within=30)
        assert (ack["actor"], ack["via"]) == ("alice", "voice")  # not skipped: alice, after the backoff

        timeline = await rig.timeline(inc)
        kinds = [(e["kind"], e["actor"]) for e in timeline]
        [retrying] = [e for e in timeline if e["kind"] == "notification.retrying"]
        assert retrying["actor"] == "alice" and "20429" in retrying["data"]["error"]
        [sent] = [e for e in timeline if e["kind"] == "notification.sent"]
        assert sent["actor"] == "alice" and sent["data"]["key"] == retrying["data"]["key"]
        assert sent["data"]["attempt"] == 2  # same delivery, second attempt: no new page
        assert sent["at"] - retrying["at"] >= BACKOFF  # waited at least the backoff before calling again
        assert ("notification.failed", "alice") not in kinds

        creates = [r for r in rig.sim.requests if r["method"] == "POST" and r["path"].endswith("/Calls.json")]
        assert [(r["params"]["To"], r["status"]) for r in creates] == [
            (PHONES["alice"], 429),
            (PHONES["alice"], 201),
        ]
        assert len(rig.calls_to("alice")) == 1  # exactly one call accepted by "Twilio" for her
        assert rig.calls_to("bob") == [] and rig.calls_to("carol") == []
