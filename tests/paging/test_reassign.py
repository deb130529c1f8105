"""Manual reassign: the named person is paged at once, the timeline says who handed it to whom."""

from __future__ import annotations

import pytest

from koban.channels.actions import IncidentAction
from koban.paging.actions import NotFound
from tests.support.factories import make_alert, make_config
from tests.support.system import deliveries, drain, running_system


async def test_reassign_pages_the_person_now_and_goes_on_escalating_after_the_step_timeout(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        [res] = await k.batcher.submit("web-generic", [make_alert()])
        await drain(k)
        out = await k.actions.reassign(res.incident_id, "bob", actor="alice", via="api")
        assert out.ok and out.status == "triggered" and "bob" in out.message
        await drain(k)
        assert [d[0] for d in await deliveries(k)] == ["alice", "bob"]
        k.clock.advance(301)  # bob did not acknowledge within the step's timeout
        await drain(k)
        assert [d[0] for d in await deliveries(k)] == ["alice", "bob", "carol"]


async def test_reassigning_an_acknowledged_incident_needs_a_new_acknowledgement(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        [res] = await k.batcher.submit("web-generic", [make_alert()])
        await drain(k)
        await k.actions.act(res.incident_id, IncidentAction.ACKNOWLEDGE, actor="alice", via="api")
        out = await k.actions.reassign(res.incident_id, "carol", actor="alice", via="cli")
        assert out.ok and out.status == "triggered"
        await k.actions.act(res.incident_id, IncidentAction.RESOLVE, actor="carol", via="api")
        refused = await k.actions.reassign(res.incident_id, "bob", actor="alice", via="api")
        assert not refused.ok and "resolved" in refused.message
        with pytest.raises(NotFound):
            await k.actions.reassign(res.incident_id, "mallory", actor="alice", via="api")
