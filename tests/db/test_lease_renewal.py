"""Issue 17 item 16: leases are short (3 s) so a dead instance's work moves at once, and ``renewing``
keeps them for an instance that is merely slow: a notice, a report or a log rule's query that takes
longer than a lease is not handed to another instance (and sent or run a second time).

The clock is a fake one: the renewer sleeps a real third of a lease, but every lease and every
claim is stamped from the fake clock, so nothing here depends on how loaded the machine is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from koban.core.clock import FakeClock
from koban.core.settings import Settings
from koban.db import schema as t
from koban.db.engine import Database
from koban.db.leased_rows import renewing
from koban.db.migrate import upgrade
from koban.db.queue import claim

LEASE = 0.3


@dataclass
class Instance:
    db: Database
    clock: FakeClock
    settings: Settings
    owner: str

    async def claim(self) -> list[int]:
        async with self.db.begin() as conn:
            rows = await claim(
                conn, t.jobs, dialect=self.db.dialect, owner=self.owner, now=self.clock.now(), lease=LEASE,
                limit=10,
            )  # fmt: skip
        return sorted(r["id"] for r in rows)


@pytest.fixture
async def pair(db_url: str, tmp_path) -> AsyncIterator[tuple[Instance, Instance]]:
    upgrade(db_url)
    db = Database(db_url)
    clock = FakeClock(1_000.0)
    settings = Settings(database_url=db_url, data_dir=tmp_path, lease_seconds=LEASE)
    async with db.begin() as conn:
        for ref in (1, 2):
            job = {"kind": "escalate", "ref": ref, "due_at": 990.0, "created_at": 990.0}
            await conn.execute(sa.insert(t.jobs).values(**job))
    try:
        yield Instance(db, clock, settings, "A"), Instance(db, clock, settings, "B")
    finally:
        await db.dispose()


async def lease_until(db: Database, job_id: int) -> float:
    async with db.read() as conn:
        q = sa.select(t.jobs.c.lease_until).where(t.jobs.c.id == job_id)
        return float((await conn.execute(q)).scalar_one())


async def until(check, what: str) -> None:
    """Wait for an event (a renewal the renewer makes on its own), never for a duration."""
    for _ in range(400):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_slow_instance_keeps_its_leases_and_a_stopped_one_loses_them_within_a_lease(pair) -> None:
    a, b = pair
    first, second = await a.claim()
    async with renewing(a, t.jobs, [first, second]) as held:
        a.clock.advance(60)  # far past the lease A took: only its renewals keep the rows

        async def renewed() -> bool:
            return await _renewed(a, first) and await _renewed(a, second)

        await until(renewed, "A to renew both leases")
        a.clock.advance(LEASE / 2)
        assert await b.claim() == []  # A is slow, not dead: B takes nothing

        held.discard(first)  # A recorded its work on the first row: no longer renewed
        for _ in range(2):  # two rounds: the first may have read the set before the discard
            a.clock.advance(60)
            await until(lambda: _renewed(a, second), "A to renew the row it still works on")
        assert await lease_until(a.db, first) < a.clock.now()
        assert await b.claim() == [first]
    # A stops renewing (killed, frozen): its last lease runs out and B takes the row.
    a.clock.advance(LEASE + 0.01)
    assert second in await b.claim()  # (and the first again: B did not renew its own lease)


async def test_a_row_another_instance_took_leaves_the_renewed_set(pair) -> None:
    a, b = pair
    first, second = await a.claim()
    async with renewing(a, t.jobs, [first, second]) as held:
        # A stood still past its lease and B claimed the first row meanwhile (as B's claim would).
        async with a.db.begin() as conn:
            await conn.execute(sa.update(t.jobs).where(t.jobs.c.id == first).values(lease_owner="B"))

        async def dropped() -> bool:
            return held == {second}

        await until(dropped, "A to notice it lost the first row")
        b_lease = await lease_until(a.db, first)
        a.clock.advance(60)
        await until(lambda: _renewed(a, second), "A to keep renewing its other row")
        assert await lease_until(a.db, first) == b_lease  # A never extends B's lease


async def _renewed(a: Instance, job_id: int) -> bool:
    return await lease_until(a.db, job_id) >= a.clock.now() + LEASE
