"""Incident -> Slack message in the fake -> signed click -> acknowledged, message updated, steps stop."""

from __future__ import annotations

import json

import sqlalchemy as sa

from koban.db import schema as t
from tests.channels.slack.engine_rig import slack_rig
from tests.support.factories import make_alert
from tests.support.system import drain


async def incident(k, incident_id: int) -> dict:
    async with k.db.read() as conn:
        row = (
            (await conn.execute(sa.select(t.incidents).where(t.incidents.c.id == incident_id)))
            .mappings()
            .one()
        )
        return dict(row)


def text_of(message: dict) -> str:
    return json.dumps([message["blocks"], message["attachments"]])


async def test_slack_click_acknowledges_updates_the_message_in_place_and_stops_later_steps(db_url, tmp_path):
    async with slack_rig(db_url, tmp_path) as rig:
        links = ({"href": "https://runbooks.example/web", "text": "runbook"},)
        [res] = await rig.k.batcher.submit("web-generic", [make_alert(links=links)])
        await drain(rig.k)
        [msg] = rig.fake.messages
        body = text_of(msg)
        assert "#E01E5A" in body  # critical colour
        assert "disk full on db-1" in body and "Service: *web*" in body
        assert "runbooks.example/web" in body and f"/incidents/{res.incident_id}" in body
        assert '"action_id": "ack"' in body and '"action_id": "escalate"' in body

        assert await rig.fake.click(msg["ts"], "ack", "U_BOB") == 200
        row = await incident(rig.k, res.incident_id)
        assert (row["status"], row["acknowledged_by"], row["acknowledged_via"]) == (
            "acknowledged",
            "bob",
            "slack",
        )

        await drain(rig.k)  # the engine's durable update delivery edits the message and threads the change
        updated = rig.fake.message(msg["ts"])
        assert len(updated["updates"]) == 1
        assert "Acknowledged by *bob* via slack" in text_of(updated)
        assert '"action_id": "ack"' not in text_of(updated)
        [reply] = rig.fake.replies(msg["ts"])
        assert "Acknowledged by *bob*" in reply["text"]

        rig.k.clock.advance(3600)  # past every escalation timeout: the webhook step never runs
        await drain(rig.k)
        assert rig.hook.deliveries == []
        assert len([m for m in rig.fake.messages if not m["thread_ts"]]) == 1


async def test_without_a_click_the_escalation_reaches_the_next_step(db_url, tmp_path):
    async with slack_rig(db_url, tmp_path) as rig:
        await rig.k.batcher.submit("web-generic", [make_alert()])
        await drain(rig.k)
        rig.k.clock.advance(301)
        await drain(rig.k)
        assert len(rig.hook.deliveries) == 1


async def test_forged_signature_or_stale_timestamp_is_refused_and_changes_nothing(db_url, tmp_path):
    async with slack_rig(db_url, tmp_path) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        await drain(rig.k)
        ts = rig.fake.messages[0]["ts"]
        assert await rig.fake.click(ts, "ack", "U_ALICE", secret="not-the-secret") == 401
        stale = int(rig.k.clock.now()) - 301
        assert await rig.fake.click(ts, "ack", "U_ALICE", timestamp=stale) == 401
        assert await rig.fake.click(ts, "resolve", "U_ALICE", timestamp=stale) == 401
        row = await incident(rig.k, res.incident_id)
        assert row["status"] == "triggered" and row["acknowledged_by"] is None
        await drain(rig.k)
        assert rig.fake.message(ts)["updates"] == []


async def test_resolve_click_turns_the_message_green_without_buttons(db_url, tmp_path):
    async with slack_rig(db_url, tmp_path) as rig:
        [res] = await rig.k.batcher.submit("web-generic", [make_alert()])
        await drain(rig.k)
        ts = rig.fake.messages[0]["ts"]
        assert await rig.fake.click(ts, "resolve", "U_CAROL") == 200
        await drain(rig.k)
        assert (await incident(rig.k, res.incident_id))["resolved_by"] == "carol"
        final = text_of(rig.fake.message(ts))
        assert "#2EB67D" in final and '"type": "actions"' not in final
