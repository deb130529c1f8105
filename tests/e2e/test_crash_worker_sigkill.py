"""Crash test: ``koban worker`` SIGKILLed at random moments, fifty times, while it escalates.

New incidents arrive between kills, so every kill lands in some phase of the work: starting up,
claiming timers, between "mark sending" and the send, between the send and recording it. After the
last restart drains the queue, every expected page reached the receiver exactly once per delivery
key. A kill between the receiver's 200 and the commit of "sent" makes the next worker resend with
the same Idempotency-Key, which the receiver dedups: that is the documented at-most-once-effective
rule for the send/record window, so such resends are counted, never recorded twice.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections import Counter
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

KILLS = 50
ALERTS_PER_ROUND = 2
ZYGOTE = Path(__file__).with_name("worker_zygote.py")


class Zygote:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def ask(self, line: str) -> str:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{line}\n".encode())
        await self.proc.stdin.drain()
        answer = await asyncio.wait_for(self.proc.stdout.readline(), 30)
        assert answer, "the zygote died"
        return answer.decode().strip()


async def test_worker_killed_fifty_times_delivers_every_page_exactly_once(db_url, tmp_path):
    rng = random.Random(20260502)  # kill moments vary with load; the invariants must not
    log = tmp_path / "workers.log"
    async with RecordingReceiver(kp.SECRET) as recv:
        cfg = ConfigFile.model_validate(kp.paging_config(recv.url, escalate_after="1s"))
        async with running_system(db_url, cfg, tmp_path, clock=SystemClock()) as k:
            env = kp.koban_env(db_url, tmp_path, lease_seconds=1, poll_seconds=0.1)
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(ZYGOTE),
                str(log),
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            zyg = Zygote(proc)
            try:
                assert await asyncio.wait_for(proc.stdout.readline(), 60) == b"ready\n"  # type: ignore[union-attr]
                ids: list[int] = []
                for rnd in range(KILLS):
                    for j in range(ALERTS_PER_ROUND):
                        [res] = await k.batcher.submit("web-generic", [make_alert(f"crash-{rnd}-{j}")])
                        ids.append(res.incident_id)  # type: ignore[arg-type]
                    pid = await zyg.ask("spawn")
                    await asyncio.sleep(rng.uniform(0.05, 0.5))
                    assert await zyg.ask(f"kill {pid}") == "dead"

                survivor = await zyg.ask("spawn")
                expected = set().union(*(kp.expected_keys(i) for i in ids))

                async def drained() -> bool:
                    return expected <= {
                        d["idempotency_key"] for d in recv.deliveries
                    } and not await _work_left(k)

                await kp.wait_for(drained, 120, "the last worker to drain the queue", every=0.25)
                assert await zyg.ask(f"term {survivor}") == "0", log.read_text()[-3000:]
            finally:
                proc.stdin.close()  # type: ignore[union-attr]
                await proc.wait()

            keys = [d["idempotency_key"] for d in recv.deliveries]
            dup = [key for key, n in Counter(keys).items() if n > 1]
            assert dup == [], f"delivered effectively twice: {dup}"
            assert set(keys) == expected, f"missing {sorted(expected - set(keys))[:5]}"
            assert (recv.state.rejected, recv.state.failed) == (0, 0)
            # Raw attempts: one per key plus the resends of sends a kill left in doubt.
            assert recv.state.attempts == len(keys) + recv.state.duplicates
            assert recv.state.duplicates <= KILLS * k.settings.worker_concurrency

            async with k.db.read() as conn:
                rows = (await conn.execute(sa.select(t.deliveries.c.key, t.deliveries.c.state))).all()
                sent_notes = Counter(
                    r.data["key"]
                    for r in await conn.execute(
                        sa.select(t.timeline.c.data).where(t.timeline.c.kind == "notification.sent")
                    )
                )
            assert {r.key: r.state for r in rows} == dict.fromkeys(expected, "sent")
            assert sent_notes == Counter(dict.fromkeys(expected, 1))
            print(
                f"\n{KILLS} kills, {len(ids)} incidents, {len(keys)} pages, "
                f"{recv.state.duplicates} in-doubt resends deduplicated by the receiver"
            )


async def _work_left(k) -> bool:
    async with k.db.read() as conn:
        jobs = (await conn.execute(sa.select(sa.func.count()).select_from(t.jobs))).scalar()
        due = (
            await conn.execute(
                sa.select(sa.func.count()).select_from(t.deliveries).where(t.deliveries.c.due_at.is_not(None))
            )
        ).scalar()
    return bool(jobs or due)
