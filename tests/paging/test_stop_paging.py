"""Acknowledging or resolving an incident cancels the pages not yet sent, each with its reason;
the incident shows its time to wake."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from koban.channels.actions import IncidentAction
from koban.channels.base import DeliveryResult
from koban.db import schema as t
from koban.paging.delivery_rules import outcome
from tests.support.factories import make_alert, make_config
from tests.support.system import client, drain, running_system


async def test_pages_not_yet_sent_are_canceled_with_the_reason_on_the_timeline(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        [res] = await k.batcher.submit("web-generic", [make_alert()])  # the worker is not running
        out = await k.actions.act(res.incident_id, IncidentAction.ACKNOWLEDGE, actor="bob", via="api")
        assert out.ok
        async with k.db.read() as conn:
            pages = (await conn.execute(sa.select(t.deliveries.c.key, t.deliveries.c.state))).all()
            notes = (
                await conn.execute(
                    sa.select(t.timeline.c.kind, t.timeline.c.actor, t.timeline.c.data).where(
                        t.timeline.c.incident_id == res.incident_id
                    )
                )
            ).all()
        assert pages and {p.state for p in pages} == {"canceled"}
        canceled = [n for n in notes if n.kind == "notification.canceled"]
        assert [(n.actor, n.data["reason"]) for n in canceled] == [("alice", "incident acknowledged")]
        assert canceled[0].data["key"] == pages[0].key


async def test_the_incident_api_shows_its_time_to_wake(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        began = datetime.fromtimestamp(k.clock.now() - 30, UTC)
        [res] = await k.batcher.submit("web-generic", [make_alert(occurred_at=began)])
        k.clock.advance(1)
        await drain(k)  # alice is paged
        k.clock.advance(4)
        await k.actions.act(res.incident_id, IncidentAction.ACKNOWLEDGE, actor="alice", via="slack")
        async with client(k) as c:
            got = (await c.get(f"/api/v1/incidents/{res.incident_id}")).json()["time_to_wake"]
        assert got["first_failure"]["how"] == "alert"
        assert got["first_page"]["after_seconds"] == 31.0 and got["first_page"]["who"] == "alice"
        assert got["first_reached"]["after_seconds"] == 35.0 and got["first_reached"]["how"] == "acknowledged"
        assert got["acknowledged"] == {**got["first_reached"], "how": "slack"}


@pytest.mark.parametrize(
    ("call_status", "note"),
    [("canceled", "call.hung_up"), ("in-progress", None), ("already over", None)],
)
def test_a_hangup_is_on_the_timeline_only_when_it_ended_a_call(call_status, note):
    result = DeliveryResult.sent("CA1", meta={"call_status": call_status})
    assert outcome("hangup", 0, {}, result, 1.0, 5).note_kind == note
    assert outcome("page", 0, {}, result, 1.0, 5).note_kind == "notification.sent"
