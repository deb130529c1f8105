"""Calendar events become tasks (seed 004): one per occurrence whatever happens, a reminder when
nobody starts, Start stops it, Done closes it, a cancelled event cancels its task."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from koban.calendars.refresh import refresh
from koban.channels.actions import IncidentAction
from koban.config.model import ConfigFile
from koban.core.clock import FakeClock
from koban.db import schema as t
from koban.db.schema_calendars import calendar_tasks
from tests.calendars.feeds import Feed, ical, serving
from tests.support.factories import make_config
from tests.support.system import drain, running_system


def config(url: str) -> ConfigFile:
    data = make_config(
        steps=[
            {"notify": [{"person": "alice"}], "escalate_after": "5m"},  # the post, then the reminder
            {"notify": [{"person": "bob"}], "escalate_after": "5m"},
        ]
    ).model_dump(mode="json")
    rule = {
        "id": "backup",
        "match": {"title": "^Backup"},
        "service": "web",
        "policy": "default",
        "lead": "10m",
        "grace": "15m",
    }
    data["calendars"] = [{"id": "ops", "url": url, "tasks": [rule]}]
    return ConfigFile.model_validate(data)


async def tasks(k) -> list[tuple]:
    async with k.db.read() as conn:
        rows = await conn.execute(
            sa.select(calendar_tasks.c.uid, calendar_tasks.c.status, calendar_tasks.c.incident_id)
        )
        return [tuple(r) for r in rows]


async def pages(k, incident_id: int) -> list[str]:
    async with k.db.read() as conn:
        q = sa.select(t.deliveries.c.person_id).where(
            t.deliveries.c.incident_id == incident_id, t.deliveries.c.kind == "page"
        )
        return [r[0] for r in await conn.execute(q.order_by(t.deliveries.c.id))]


async def test_the_same_event_fetched_ten_times_makes_one_task(db_url, tmp_path):
    feed = Feed()
    async with serving(feed), running_system(db_url, config(feed.url), tmp_path) as k:
        start = k.clock.now() + 3600
        event = ("ev-1", start, start + 1800, "Backup check")
        cal = k.catalog.calendars["ops"]
        for i in range(10):
            # Duplicated and reordered feeds, and a changed body each time (no 304 shortcut).
            feed.body = ical(
                *([event, ("other", start, start + 60, f"Lunch {i}"), event][:: 1 if i % 2 else -1])
            )
            await refresh(k.deps, cal, k.clock.now(), force=True)
            if i == 5:
                k.clock.advance(3000)  # past start - lead: the task opens
            await k.calendars.tick()
        [(uid, status, incident_id)] = await tasks(k)
        assert (uid, status) == ("ev-1", "open") and incident_id is not None
        async with k.db.read() as conn:
            kinds = (await conn.execute(sa.select(t.incidents.c.details))).scalars().all()
        assert [d["kind"] for d in kinds] == ["task"]


async def incident_count(k) -> int:
    async with k.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(t.incidents))).scalar_one()


async def test_restarts_before_and_after_the_task_opens_keep_one_task(db_url, tmp_path):
    feed = Feed()
    clock = FakeClock()
    start = clock.now() + 3600
    feed.body = ical(("ev-1", start, start + 1800, "Backup check"))
    async with serving(feed):
        for round_ in range(3):  # fetched, koban stopped and started again; the task opens; again
            async with running_system(db_url, config(feed.url), tmp_path, clock=clock) as k:
                await refresh(k.deps, k.catalog.calendars["ops"], clock.now(), force=True)
                if round_ == 1:
                    clock.advance(3000)  # past start - lead
                await k.calendars.tick()
                [(uid, status, incident_id)] = await tasks(k)
                assert (uid, status) == ("ev-1", "pending" if round_ == 0 else "open")
                assert await incident_count(k) == (0 if round_ == 0 else 1)


async def test_two_instances_fetching_and_opening_at_once_make_one_task(db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("several instances share a database on PostgreSQL")
    feed = Feed()
    clock = FakeClock()
    start = clock.now() + 600  # due at once: start - lead is now
    events = [(f"ev-{i}", start, start + 1800, "Backup check") for i in range(5)]
    async with (
        serving(feed),
        running_system(db_url, config(feed.url), tmp_path / "a", clock=clock, instance_name="a") as a,
        running_system(db_url, config(feed.url), tmp_path / "b", clock=clock, instance_name="b") as b,
    ):
        for i in range(4):  # each instance its own fetch and open, at the same moment, feeds reordered
            feed.body = ical(*(events if i % 2 else events[::-1]))
            await asyncio.gather(
                *(refresh(k.deps, k.catalog.calendars["ops"], clock.now(), force=True) for k in (a, b))
            )
            await asyncio.gather(a.calendars.tick(), b.calendars.tick(), a.calendars.tick())
        rows = await tasks(a)
        assert sorted((uid, status) for uid, status, _ in rows) == [(f"ev-{i}", "open") for i in range(5)]
        assert len({incident for _, _, incident in rows}) == 5 and await incident_count(a) == 5


async def test_a_task_nobody_starts_gets_a_reminder_then_escalates_and_start_stops_it(db_url, tmp_path):
    feed = Feed()
    async with serving(feed), running_system(db_url, config(feed.url), tmp_path) as k:
        start = k.clock.now() + 600
        feed.body = ical(
            ("a", start, start + 1800, "Backup check"), ("b", start, start + 1800, "Backup check 2")
        )
        await k.calendars.tick()
        [(_, _, first), (_, _, second)] = sorted(await tasks(k))
        await drain(k)
        assert await pages(k, first) == ["alice"]
        await k.actions.act(first, IncidentAction.ACKNOWLEDGE, actor="alice", via="slack")  # Start
        k.clock.advance(600 + 900 + 1)  # start + grace
        await drain(k)
        assert await pages(k, first) == ["alice"]  # started: no reminder
        assert await pages(k, second) == ["alice", "bob"]  # not started: the reminder goes on
        done = await k.actions.act(first, IncidentAction.RESOLVE, actor="alice", via="slack")  # Done
        assert done.status == "resolved"
        async with k.db.read() as conn:
            tl = t.timeline.c
            q = sa.select(tl.kind, tl.actor, tl.data).where(tl.incident_id == first, tl.kind.like("task.%"))
            entries = {r.kind: (r.actor, r.data) for r in await conn.execute(q.order_by(tl.id))}
        # Started 10 minutes before the event (at its opening), done 16 minutes after its start.
        assert entries["task.started"][0] == "alice"
        assert entries["task.started"][1]["after_event_start_seconds"] == -600
        assert entries["task.done"][1]["after_event_start_seconds"] == 901


async def test_a_cancelled_event_cancels_its_task_and_a_moved_one_is_noted(db_url, tmp_path):
    feed = Feed()
    async with serving(feed), running_system(db_url, config(feed.url), tmp_path) as k:
        start = k.clock.now() + 300
        feed.body = ical(
            ("a", start, start + 1800, "Backup check"), ("later", start + 86400, start + 90000, "Backup")
        )
        await k.calendars.tick()
        feed.body = ical(("a", start + 60, start + 1860, "Backup check"))  # moved; "later" cancelled
        k.clock.advance(300)
        await k.calendars.tick()
        assert sorted(x[:2] for x in await tasks(k)) == [("a", "open"), ("later", "cancelled")]
        feed.body = ical()
        k.clock.advance(300)
        await k.calendars.tick()
        [(_, status, incident_id)] = [x for x in await tasks(k) if x[0] == "a"]
        async with k.db.read() as conn:
            inc = (
                await conn.execute(sa.select(t.incidents.c.status).where(t.incidents.c.id == incident_id))
            ).scalar()
            kinds = (
                (
                    await conn.execute(
                        sa.select(t.timeline.c.kind).where(t.timeline.c.incident_id == incident_id)
                    )
                )
                .scalars()
                .all()
            )
        assert (status, inc) == ("cancelled", "resolved")
        assert "task.moved" in kinds and "task.cancelled" in kinds


async def test_an_open_task_whose_event_moves_later_is_reminded_at_the_new_start(db_url, tmp_path):
    feed = Feed()
    async with serving(feed), running_system(db_url, config(feed.url), tmp_path) as k:
        start = k.clock.now() + 600
        feed.body = ical(("a", start, start + 1800, "Backup check"))
        await k.calendars.tick()  # opened (start - lead is now): alice is posted
        [(_, status, incident_id)] = await tasks(k)
        await drain(k)
        assert status == "open" and await pages(k, incident_id) == ["alice"]
        feed.body = ical(("a", start + 3600, start + 5400, "Backup check"))  # an hour later
        k.clock.advance(300)  # the next fetch
        await k.calendars.tick()
        k.clock.advance(300 + 900)  # the old start + grace: no reminder any more
        await drain(k)
        assert await pages(k, incident_id) == ["alice"]
        k.clock.advance(3600)  # the new start + grace: the reminder
        await drain(k)
        assert await pages(k, incident_id) == ["alice", "bob"]
