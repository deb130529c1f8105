"""The paging core end to end inside one process: alert -> incident -> steps -> notifications."""

from __future__ import annotations

from koban.channels.actions import IncidentAction
from tests.support.factories import make_alert, make_config
from tests.support.system import deliveries, drain, running_system


async def test_alert_pages_current_on_call_then_escalates_to_next_step(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        [res] = await k.batcher.submit("web-generic", [make_alert()])
        assert res.created and res.status == "triggered"
        await drain(k)
        assert await deliveries(k) == [("alice", "page", "sent")]
        k.clock.advance(301)
        await drain(k)
        assert await deliveries(k) == [("alice", "page", "sent"), ("carol", "page", "sent")]


async def test_repeats_update_one_open_incident_and_resolve_closes_it(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        a = await k.batcher.submit("web-generic", [make_alert(), make_alert()])
        assert a[0].incident_id == a[1].incident_id
        [r] = await k.batcher.submit("web-generic", [make_alert(action="resolve")])
        assert r.status == "resolved"
        [again] = await k.batcher.submit("web-generic", [make_alert()])
        assert again.created and again.incident_id != a[0].incident_id


async def test_acknowledge_stops_escalation(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        [res] = await k.batcher.submit("web-generic", [make_alert()])
        await drain(k)
        out = await k.actions.act(res.incident_id, IncidentAction.ACKNOWLEDGE, actor="alice", via="api")
        assert out.ok and out.status == "acknowledged"
        k.clock.advance(3600)
        await drain(k)
        assert [d for d in await deliveries(k) if d[1] == "page"] == [("alice", "page", "sent")]
        again = await k.actions.act(res.incident_id, IncidentAction.ACKNOWLEDGE, actor="bob", via="api")
        assert not again.ok and "already acknowledged by alice" in again.message


async def test_a_policy_edited_mid_incident_does_not_change_the_page_in_flight(db_url, tmp_path):
    """The plan is frozen onto the incident when it opens (issue 17, item 21): an edit to its policy
    (other people, shorter timeouts) applies to incidents opened after it, not to this one."""
    from koban.catalog.apply import apply_config

    async with running_system(db_url, make_config(), tmp_path) as k:
        [first] = await k.batcher.submit("web-generic", [make_alert("first")])
        await drain(k)
        assert await deliveries(k) == [("alice", "page", "sent")]
        bob_only = [{"notify": [{"person": "bob"}], "escalate_after": "1m"}] * 2
        async with k.db.begin() as conn:
            changes = await apply_config(conn, make_config(steps=bob_only), k.clock.now())
        assert [str(c) for c in changes] == ["~ policies/default"]
        await k.refresh_catalog(force=True)
        k.clock.advance(61)  # past the edited timeout, not the frozen 5 minutes
        await drain(k)
        assert await deliveries(k) == [("alice", "page", "sent")]
        k.clock.advance(240)
        await drain(k)
        assert await deliveries(k) == [("alice", "page", "sent"), ("carol", "page", "sent")]
        [second] = await k.batcher.submit("web-generic", [make_alert("second")])
        await drain(k)
        assert second.incident_id != first.incident_id
        assert (await deliveries(k))[-1] == ("bob", "page", "sent")  # a new incident takes the edit
