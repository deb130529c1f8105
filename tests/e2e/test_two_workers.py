"""Two ``koban worker`` processes on one PostgreSQL queue, fed by ``koban serve --no-worker``.

Many incidents with three steps each: both workers take part, and the receiver sees every page
exactly once with no duplicate attempt at all (no crash here, so nothing may ever be resent).
"""

from __future__ import annotations

import asyncio

import aiohttp
import asyncpg
import pytest

from koban.fakes.webhook_receiver import RecordingReceiver
from koban.testing.ports import free_port
from tests.support import koban_proc as kp

pytestmark = pytest.mark.slow

INCIDENTS = 150
CHUNK = 25


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_workers_share_one_queue_and_never_send_a_page_twice(db_url, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with RecordingReceiver(kp.SECRET) as recv:
        cfg = kp.write_config(tmp_path / "koban.yaml", kp.paging_config(recv.url, console=True))
        serve_log, logs = tmp_path / "serve.log", [tmp_path / "w1.log", tmp_path / "w2.log"]
        serve = await kp.start(
            ["serve", "--no-worker"], kp.koban_env(db_url, tmp_path, port=port, config_file=cfg), serve_log
        )
        workers: list[asyncio.subprocess.Process] = []
        try:
            await kp.wait_healthy(base, serve, serve_log)
            before = await _listeners(db_url)
            for i, log in enumerate(logs):
                env = kp.koban_env(db_url, tmp_path, instance_name=f"w{i + 1}")
                workers.append(await kp.start(["worker", "--no-migrate"], env, log))

            async def both_listening() -> bool:
                return await _listeners(db_url) >= before + 2

            # Pages sent before the second worker is up could all go to the first one: wait until
            # both listen for due work, so "both took part" tests sharing, not start-up speed.
            await kp.wait_for(both_listening, 60, "both workers to listen for due work", every=0.1)
            ids = await _send_alerts(base)
            assert len(set(ids)) == INCIDENTS
            expected = set().union(*(kp.expected_keys(i) for i in ids))

            async def all_delivered() -> bool:
                return len(recv.deliveries) >= len(expected)

            await kp.wait_for(all_delivered, 120, f"{len(expected)} pages", every=0.25)
            await asyncio.sleep(1.5)  # room for a late second send to show up, if there were one
        finally:
            codes = [await kp.stop(p) for p in [*workers, serve]]
        assert codes == [0, 0, 0], "\n".join(p.read_text()[-2000:] for p in [*logs, serve_log])

    keys = [d["idempotency_key"] for d in recv.deliveries]
    assert sorted(keys) == sorted(expected)
    assert recv.state.duplicates == 0 and recv.state.attempts == len(expected)
    # The console target of step 0 logs in the process that sent it: both did part of the work.
    sent_by = [log.read_text().count(kp.CONSOLE_PREFIX) for log in logs]
    assert sum(sent_by) == INCIDENTS and min(sent_by) > 0, sent_by


async def _listeners(db_url: str) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
        )
    finally:
        await conn.close()


async def _send_alerts(base: str) -> list[int]:
    ids: list[int] = []
    async with aiohttp.ClientSession(base_url=base) as http:
        for start in range(0, INCIDENTS, CHUNK):
            batch = [
                {"summary": f"host-{n} down", "severity": "critical", "dedup_key": f"host-{n}"}
                for n in range(start, start + CHUNK)
            ]
            async with http.post(
                "/api/v1/ingest", json=batch, headers={"Authorization": f"Bearer {kp.KEY}"}
            ) as r:
                assert r.status == 202, await r.text()
                ids.extend(i["incident_id"] for i in (await r.json())["incidents"])
    return ids
