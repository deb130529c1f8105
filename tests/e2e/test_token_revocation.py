"""A revoked API token is refused within one second by every instance: two ``koban serve``
processes on one PostgreSQL database, each caching tokens for at most a second."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from koban.auth.store import list_tokens, revoke_token
from koban.db.engine import Database
from koban.testing.ports import free_port
from tests.support import koban_proc as kp
from tests.support.admin import provision_url

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_revoked_token_is_refused_by_every_instance_within_a_second(db_url, tmp_path):
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    cfg = kp.write_config(tmp_path / "koban.yaml", kp.paging_config("http://127.0.0.1:9/", console=True))
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = []
    try:
        for i, (port, log) in enumerate(zip(ports, logs, strict=True)):
            env = kp.koban_env(db_url, tmp_path / f"i{i}", port=port, config_file=cfg, instance_name=f"i{i}")
            env["KOBAN_SECRET_KEY"] = "shared-by-both"
            procs.append(await kp.start(["serve", "--no-worker"] + (["--no-migrate"] if i else []), env, log))
            await kp.wait_healthy(bases[i], procs[i], log)
        token = await provision_url(db_url, time.time())
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession() as http:

            async def statuses() -> list[int]:
                out = []
                for base in bases:
                    async with http.get(f"{base}/api/v1/incidents", headers=headers) as r:
                        out.append(r.status)
                return out

            assert await statuses() == [200, 200]  # both have it cached now
            db = Database(db_url)
            try:
                async with db.begin() as conn:
                    [info] = await list_tokens(conn)
                    await revoke_token(conn, info.id, time.time())
            finally:
                await db.dispose()
            revoked_at = time.monotonic()
            while await statuses() != [401, 401]:
                assert time.monotonic() - revoked_at < 1.2, "a revoked token still worked after a second"
                await asyncio.sleep(0.05)
    finally:
        codes = [await kp.stop(p) for p in procs]
    assert codes == [0] * len(procs), "\n".join(kp.tail(log) for log in logs)
