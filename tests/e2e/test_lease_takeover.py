"""Issue 17 item 16: a frozen or killed instance's pages in flight move to another within a lease,
and a merely slow one keeps its own (its worker renews the leases while it sends); so do the
escalation timers it had claimed.

Two real ``koban worker`` processes on PostgreSQL. A claims four pages and sends them to a receiver
that does not answer (a slow vendor). B, running beside it for three leases, takes none: A renews.
Then A is frozen (SIGSTOP, as the report saw) and B re-sends the four pages with the same
Idempotency-Key; the time from the freeze to B's fourth resend is printed. It used to be the whole
30 s lease; the test only bounds it generously (no timed assertion beyond "well before 30 s").
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from koban.config.model import ConfigFile
from koban.core.clock import SystemClock
from koban.db import schema as t
from koban.fakes.webhook_receiver import RecordingReceiver
from tests.support import koban_proc as kp
from tests.support.factories import make_alert
from tests.support.system import running_system

pytestmark = pytest.mark.slow
LEASE = 3.0
PAGES = 4


async def start_worker(name: str, db_url: str, tmp_path, log) -> asyncio.subprocess.Process:
    env = kp.koban_env(db_url, tmp_path, lease_seconds=LEASE, poll_seconds=0.2, instance_name=name)
    proc = await kp.start(["worker"], env, log)
    await kp.wait_for(lambda: _said(log, f"koban worker {name} running", proc), 60, f"worker {name} to start")
    return proc


async def _said(log, line: str, proc) -> bool:
    if proc.returncode is not None:
        raise AssertionError(f"worker exited {proc.returncode}:\n{kp.tail(log)}")
    return line in (log.read_text() if log.exists() else "")


def _load() -> str:
    path = Path("/proc/loadavg")
    return path.read_text().split()[0] if path.exists() else "?"


async def owners(k) -> list[tuple[str, str | None]]:
    d = t.deliveries.c
    async with k.db.read() as conn:
        return [
            tuple(r) for r in (await conn.execute(sa.select(d.state, d.lease_owner).order_by(d.id))).all()
        ]


async def test_a_frozen_instance_pages_move_within_a_lease_and_a_slow_one_keeps_them(db_url, tmp_path):
    if db_url.startswith("sqlite"):
        pytest.skip("several instances share work on PostgreSQL only")
    async with RecordingReceiver(kp.SECRET) as recv:
        cfg_data = kp.paging_config(recv.url, escalate_after="10m", steps=1)
        cfg_data["channels"][0]["timeout"] = 120  # the slow receiver is slow, not timed out
        cfg = ConfigFile.model_validate(cfg_data)
        recv.hang_next(PAGES)
        async with running_system(db_url, cfg, tmp_path, clock=SystemClock()) as k:
            a = await start_worker("A", db_url, tmp_path, tmp_path / "a.log")
            b = None
            try:
                for i in range(PAGES):
                    await k.batcher.submit("web-generic", [make_alert(f"takeover-{i}")])

                async def a_sending() -> bool:
                    return len(recv.deliveries) == PAGES

                await kp.wait_for(a_sending, 60, "A to send every page")
                b = await start_worker("B", db_url, tmp_path, tmp_path / "b.log")

                await asyncio.sleep(3 * LEASE)  # A is slow, not dead: it renews, B takes nothing
                assert recv.state.duplicates == 0 and recv.state.attempts == PAGES
                assert await owners(k) == [("sending", "A")] * PAGES

                os.kill(a.pid, signal.SIGSTOP)
                frozen = time.monotonic()

                async def b_resent() -> bool:
                    return recv.state.duplicates >= PAGES

                await kp.wait_for(b_resent, 60, "B to take A's pages over", every=0.05)
                takeover = time.monotonic() - frozen

                async def recorded() -> bool:
                    return [s for s, _ in await owners(k)] == ["sent"] * PAGES

                await kp.wait_for(recorded, 30, "B to record the pages")
                print(
                    f"\ntakeover of {PAGES} pages in flight: {takeover:.2f} s after SIGSTOP "
                    f"(lease {LEASE} s, load average {_load()})"
                )
                assert takeover < 20, f"took {takeover:.1f} s: the old 30 s lease is back?"
                # Exactly one effective delivery per page: B's resends carried the same key.
                assert len({d["idempotency_key"] for d in recv.deliveries}) == PAGES
            finally:
                if a.returncode is None:
                    a.kill()  # SIGKILL ends a stopped process too
                    await a.wait()
                if b is not None:
                    await kp.stop(b)
                recv.release()


async def test_a_timer_a_killed_instance_claimed_fires_on_another_within_a_lease(db_url, tmp_path):
    """A timer is claimed, then fired in the next transaction: an instance killed in between leaves
    the ``jobs`` row leased to it, exactly as written here (due now, ``lease_owner`` the dead one,
    ``lease_until`` a lease ahead). B, a real ``koban worker`` already running, must fire it once
    that lease ends, not before (the row is still A's) and not 30 s later (the old lease)."""
    if db_url.startswith("sqlite"):
        pytest.skip("several instances share work on PostgreSQL only")
    async with RecordingReceiver(kp.SECRET) as recv:
        cfg = ConfigFile.model_validate(kp.paging_config(recv.url, escalate_after="10m", steps=2))
        async with running_system(db_url, cfg, tmp_path, clock=SystemClock()) as k:
            b = await start_worker("B", db_url, tmp_path, tmp_path / "b.log")
            try:
                await k.batcher.submit("web-generic", [make_alert("timer-takeover")])

                async def first_page_sent() -> bool:
                    return len(recv.deliveries) == 1

                await kp.wait_for(first_page_sent, 60, "B to send step 0")
                j = t.jobs.c
                lease = k.settings.lease_seconds  # the lease A takes with the default settings
                async with k.db.begin() as conn:  # A claimed the due timer, then was SIGKILLed
                    killed = time.time()
                    leased = await conn.execute(
                        sa.update(t.jobs)
                        .where(j.kind == "escalate")
                        .values(due_at=killed, lease_owner="A", lease_until=killed + lease)
                        .returning(j.id)
                    )
                    assert len(leased.all()) == 1

                async def step_1_paged() -> bool:
                    return len(recv.deliveries) == 2

                await kp.wait_for(step_1_paged, 60, "B to fire A's timer", every=0.05)
                paged = time.time() - killed
                d = t.deliveries.c
                async with k.db.read() as conn:
                    made = (await conn.execute(sa.select(d.created_at).where(d.step == 1))).scalar_one()
                    left = sa.select(sa.func.count()).select_from(t.jobs).where(j.lease_owner == "A")
                    assert (await conn.execute(left)).scalar_one() == 0
                print(
                    f"\ntakeover of an escalation timer: step 1 made {made - killed:.2f} s and paged "
                    f"{paged:.2f} s after the kill (lease {lease} s, load average {_load()})"
                )
                assert made >= killed + lease  # B waited for A's lease: never fired while A held it
                assert made - killed < 20, f"took {made - killed:.1f} s: the old 30 s lease is back?"
            finally:
                await kp.stop(b)
