"""Pages handed to this process's worker in the transaction that made them due (``Worker.hand_off``).

The claim is the worker's own (lease, ``sending`` mark), so a crash between that commit and the send
leaves a row another instance reconciles once the lease ends, and a second instance never sends a
page the first was handed.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from koban.catalog.deps import Handed
from koban.core.clock import FakeClock
from koban.db import schema as t
from koban.db.uow import UnitOfWork
from koban.fakes.webhook_receiver import RecordingReceiver
from koban.triage.alerts import process_alerts
from tests.paging.test_delivery import webhook_config
from tests.support.factories import make_alert
from tests.support.system import drain, running_system

HOOK = "hook"


async def open_incident(k, key: str = "disk-full") -> tuple[int, Handed]:
    """An incident opened as the prober opens one: its due pages handed off in its transaction."""
    async with k.db.begin() as conn:
        uow = UnitOfWork(conn, k.db.dialect)
        [res] = await process_alerts(uow, k.catalog, "web-generic", [make_alert(key)], k.clock.now())
        await uow.flush()
        handed = await k.deps.hand_off(conn, uow.delivery_keys)
    return res.incident_id, handed


async def ready(k) -> None:
    """Until the worker's loop runs (only then does it take hand-offs) and, on PostgreSQL, its
    listener is connected (a listener cancelled while connecting would leave its socket open)."""
    for _ in range(500):
        if k.worker.running and (k.listener is None or k.listener.connected.is_set()):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the worker never started")


async def pages(k) -> list[dict]:
    d = t.deliveries.c
    async with k.db.read() as conn:
        q = sa.select(d.key, d.state, d.lease_owner, d.attempts).where(d.kind == "page").order_by(d.id)
        return [dict(r._mapping) for r in await conn.execute(q)]


async def settle(k) -> None:
    """Until this process's sends and their recording are done."""
    for _ in range(100):
        if not k.worker.inflight:
            return
        await asyncio.gather(*list(k.worker.inflight))
    raise AssertionError("sends kept running")


async def test_pages_handed_off_are_claimed_in_the_incident_transaction_and_sent_once(db_url, tmp_path):
    clock = FakeClock()
    async with (
        RecordingReceiver("s3cret", clock=clock.now) as recv,
        running_system(
            db_url, webhook_config(recv.url), tmp_path, worker=True, clock=clock, poll_seconds=30
        ) as k,
    ):
        await ready(k)
        incident, handed = await open_incident(k)
        assert handed.complete
        # Committed as the worker's own claim would leave them: ours, marked sending, attempt 1.
        claimed = await pages(k)
        assert [(p["state"], p["lease_owner"], p["attempts"]) for p in claimed] == [
            ("sending", k.owner, 1),
            ("sending", k.owner, 1),
        ]
        handed.start()
        await settle(k)
        assert [d["idempotency_key"] for d in recv.deliveries] == [f"{incident}:0:{HOOK}:0"]
        assert recv.state.duplicates == 0
        assert {p["state"] for p in await pages(k)} == {"sent"}


async def test_a_crash_between_the_hand_off_and_the_send_pages_once_through_another_instance(
    db_url, tmp_path
):
    clock = FakeClock()
    async with RecordingReceiver("s3cret", clock=clock.now) as recv:
        cfg = webhook_config(recv.url)
        async with running_system(db_url, cfg, tmp_path, worker=True, clock=clock, poll_seconds=30) as a:
            await ready(a)
            incident, handed = await open_incident(a)
            assert handed.complete
            # The process dies here: committed as sending, never sent (``start`` is not called).
        assert recv.deliveries == []
        async with running_system(db_url, cfg, tmp_path / "b", clock=clock, instance_name="b") as b:
            await drain(b)
            assert recv.deliveries == []  # a's lease still holds: nobody sends blind meanwhile
            clock.advance(b.settings.lease_seconds + 1)
            await drain(b)
            await settle(b)
            hook = next(p for p in await pages(b) if p["key"].endswith(f":{HOOK}:0"))
        assert (hook["state"], hook["attempts"]) == ("sent", 2)  # a's claim, then b's
        assert [d["idempotency_key"] for d in recv.deliveries] == [f"{incident}:0:{HOOK}:0"]
        assert recv.state.duplicates == 0


async def test_a_second_instance_never_sends_what_the_first_was_handed(db_url, tmp_path):
    clock = FakeClock()
    async with RecordingReceiver("s3cret", clock=clock.now) as recv:
        cfg = webhook_config(recv.url)
        opts = {"worker": True, "clock": clock, "poll_seconds": 0.05}
        async with (
            running_system(db_url, cfg, tmp_path, instance_name="a", **opts) as a,
            running_system(db_url, cfg, tmp_path / "b", instance_name="b", **opts) as b,
        ):
            await ready(a)
            await ready(b)
            opened = []
            for n in range(5):
                incident, handed = await open_incident(a, f"disk-{n}")
                mine = [p for p in await pages(a) if p["key"].startswith(f"{incident}:")]
                assert handed.complete and {p["lease_owner"] for p in mine} == {"a"}
                handed.start()
                opened.append(incident)
                await asyncio.sleep(0.02)  # b's worker polls (and, on PostgreSQL, is notified) meanwhile
            await settle(a)
            await asyncio.sleep(0.2)  # room for a second send by b, if there were one
            await settle(b)
            rows = await pages(a)
        assert sorted(d["idempotency_key"] for d in recv.deliveries) == sorted(
            f"{i}:0:{HOOK}:0" for i in opened
        )
        assert recv.state.duplicates == 0
        assert {(p["state"], p["attempts"]) for p in rows} == {("sent", 1)}  # one claim each: a's


async def test_nothing_is_handed_off_where_no_worker_runs(db_url, tmp_path):
    clock = FakeClock()
    async with (
        RecordingReceiver("s3cret", clock=clock.now) as recv,
        running_system(db_url, webhook_config(recv.url), tmp_path, clock=clock) as k,
    ):
        _, handed = await open_incident(k)
        assert not handed.complete
        assert {p["state"] for p in await pages(k)} == {"pending"}
        await drain(k)  # the worker, woken as before, claims them itself
        assert len(recv.deliveries) == 1


async def test_a_hand_off_takes_no_more_than_the_worker_has_free_slots(db_url, tmp_path):
    clock = FakeClock()
    async with (
        RecordingReceiver("s3cret", clock=clock.now) as recv,
        running_system(
            db_url,
            webhook_config(recv.url),
            tmp_path,
            worker=True,
            clock=clock,
            poll_seconds=30,
            worker_concurrency=1,
        ) as k,
    ):
        await ready(k)
        _, handed = await open_incident(k)
        assert not handed.complete  # two pages, one slot: the caller wakes the worker for the other
        assert sorted(p["state"] for p in await pages(k)) == ["pending", "sending"]
        handed.start()
        await settle(k)
