"""Seed 004 end to end through Slack: a calendar event served over HTTP becomes a task posted with
Start and Done; a Start click stops the reminder, a Done click closes it; the task nobody starts
escalates; the timeline says who started and finished it, and how long after the event's start."""

from __future__ import annotations

import sqlalchemy as sa

from koban.bootstrap.mounts import integration_routes
from koban.config.model import ConfigFile
from koban.core.clock import FakeClock
from koban.db import schema as t
from koban.fakes.slack import FakeSlack
from koban.fakes.slack.clicks import iter_buttons
from koban.fakes.webhook_receiver import RecordingReceiver
from tests.calendars.feeds import Feed, ical, serving
from tests.channels.asgi import serve
from tests.channels.slack.engine_rig import HOOK_SECRET, PATH, SECRET, slack_config
from tests.support.outbound import _close_outbound_session  # noqa: F401  (autouse fixture)
from tests.support.system import drain, running_system


def config(slack: str, hook: str, feed: str) -> ConfigFile:
    data = slack_config(slack, hook).model_dump(mode="json")
    rule = {"id": "work", "match": {"title": "^Maintenance"}, "service": "web", "policy": "default"}
    data["calendars"] = [{"id": "ops", "url": feed, "tasks": [{**rule, "lead": "10m", "grace": "15m"}]}]
    return ConfigFile.model_validate(data)


def posted(fake: FakeSlack, title: str) -> dict:
    [m] = [m for m in fake.messages if title in m["text"] and not m["thread_ts"]]
    return m


async def entries(k, incident_id: int) -> dict[str, dict]:
    async with k.db.read() as conn:
        tl = t.timeline.c
        q = sa.select(tl.kind, tl.actor, tl.data).where(tl.incident_id == incident_id).order_by(tl.id)
        return {r.kind: {"actor": r.actor, **(r.data or {})} for r in await conn.execute(q)}


async def test_a_calendar_task_is_started_and_done_from_slack_and_an_unstarted_one_escalates(
    db_url, tmp_path
):
    clock = FakeClock()
    feed = Feed()
    async with (
        serving(feed),
        FakeSlack(signing_secret=SECRET, clock=clock.now) as fake,
        RecordingReceiver(HOOK_SECRET, clock=clock.now) as hook,
        running_system(db_url, config(fake.base_url, hook.url, feed.url), tmp_path, clock=clock) as k,
        serve(integration_routes(k)) as base,
    ):
        fake.interactivity_url = base + PATH
        start = clock.now() + 600  # both open now: 10 minutes of lead
        feed.body = ical(
            ("a", start, start + 1800, "Maintenance A"), ("b", start, start + 1800, "Maintenance B")
        )
        await k.calendars.tick()
        await drain(k)
        a, _ = posted(fake, "Maintenance A"), posted(fake, "Maintenance B")
        assert {e["action_id"] for _, e in iter_buttons(a)} >= {"ack", "resolve"}  # Start and Done
        clock.advance(60)
        assert await fake.click(a["ts"], "ack", "U_BOB") == 200  # Start
        await fake.settled()
        clock.advance(600 + 900)  # past start + grace: B's reminder, then its escalation
        await drain(k)
        clock.advance(301)
        await drain(k)
        assert [d["json"]["incident"]["summary"] for d in hook.deliveries] == ["Maintenance B"]  # not A
        assert await fake.click(posted(fake, "Maintenance A")["ts"], "resolve", "U_BOB") == 200  # Done
        await fake.settled()
        async with k.db.read() as conn:
            q = sa.select(t.incidents.c.summary, t.incidents.c.status, t.incidents.c.id)
            got = {r.summary: (r.status, r.id) for r in await conn.execute(q)}
        assert got["Maintenance A"][0] == "resolved" and got["Maintenance B"][0] == "triggered"
        tl = await entries(k, got["Maintenance A"][1])
        assert tl["task.started"]["by"] == "bob" and tl["task.started"]["after_event_start_seconds"] == -540
        assert tl["task.done"]["by"] == "bob" and tl["task.done"]["after_event_start_seconds"] > 0
