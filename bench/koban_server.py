"""Start a real ``koban serve`` (SQLite, default settings) for a bench, with one keyed integration.

The service has no policy, so the bench measures what issue 4 asks: alerts accepted and durably
stored (committed before the 2xx), not paging. ``stored_alerts`` counts them afterwards: alerts
still in the ingest inbox (queued sources, ``--no-worker``) plus alert rows already processed.
``drain`` then starts a ``koban worker`` on the same database and measures how fast it turns the
backlog into incidents, so the accept rate is never read as a processing rate.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import yaml

from koban.catalog.snapshot import hash_key
from koban.testing.ports import free_port

BENCH_KEY = "bench-key-0123456789abcdef"


@dataclass(frozen=True)
class KobanServer:
    url: str
    database: Path
    env: dict[str, str]
    pid: int = 0
    key: str = BENCH_KEY

    def stored_alerts(self) -> int:
        """Accepted alerts on disk: still in the inbox (queued sources) plus already processed."""
        with sqlite3.connect(self.database) as conn:
            queued = conn.execute("SELECT coalesce(sum(alerts), 0) FROM ingest_inbox").fetchone()[0]
            return queued + conn.execute("SELECT count(*) FROM alerts").fetchone()[0]

    def queued_alerts(self) -> int:
        with sqlite3.connect(self.database) as conn:
            return conn.execute("SELECT coalesce(sum(alerts), 0) FROM ingest_inbox").fetchone()[0]

    async def drain(self, seconds: float) -> tuple[int, float, int]:
        """Run ``koban worker`` for up to ``seconds`` (or until the inbox is empty):
        (alerts processed, seconds taken, alerts still queued)."""
        before = self.queued_alerts()
        argv = [sys.executable, "-c", "from koban.cli.main import app; app()", "worker", "--no-migrate"]
        proc = _spawn(argv, self.env, self.database.with_name("worker.log"))
        loop = asyncio.get_running_loop()
        started = loop.time()
        left = before
        try:
            while left and loop.time() - started < seconds:
                await asyncio.sleep(0.25)
                left = self.queued_alerts()
        finally:
            proc.terminate()
            proc.wait(30)
        return before - left, loop.time() - started, left


def _config(kind: str) -> dict:
    integration = {"id": "bench", "type": kind, "key_hashes": [hash_key(BENCH_KEY)]}
    return {"services": [{"id": "bench", "integrations": [integration]}]}


@asynccontextmanager
async def run_koban(
    kind: str = "prometheus",
    *,
    extra_env: dict[str, str] | None = None,
    worker: bool = False,
    config: dict | None = None,
) -> AsyncIterator[KobanServer]:
    """``koban serve`` on SQLite with ``config`` (default: one ``kind`` integration keyed BENCH_KEY).
    ``worker``: the drain runs in the same process as the edge, as ``koban serve`` ships."""
    tmp = Path(tempfile.mkdtemp(prefix="koban-bench-"))
    port = free_port()
    (tmp / "koban.yaml").write_text(yaml.safe_dump(config if config is not None else _config(kind)))
    env = {
        **os.environ,
        "KOBAN_DATA_DIR": str(tmp),
        "KOBAN_SECRET_KEY": "bench",
        "KOBAN_LOG_LEVEL": "WARNING",
        # The benches measure the accept rate, mostly without a drain (--no-worker): the inbox's
        # bound (ingest/backlog.py) would turn the run into 429s. A bench that tests it sets them.
        "KOBAN_INGEST_MAX_BACKLOG_ROWS": "0",
        "KOBAN_INGEST_MAX_BACKLOG_AGE_SECONDS": "0",
        **(extra_env or {}),
    }
    argv = [sys.executable, "-c", "from koban.cli.main import app; app()", "serve", "--port", str(port)]
    argv += ["--config", str(tmp / "koban.yaml")] + ([] if worker else ["--no-worker"])
    proc = _spawn(argv, env, tmp / "koban.log")
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(url, proc, tmp)
        yield KobanServer(url, tmp / "koban.db", env, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as err:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err)


async def _wait_ready(url: str, proc: subprocess.Popen, tmp: Path) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(f"koban exited: {(tmp / 'koban.log').read_text()[-2000:]}")
            try:
                async with session.get(url + "/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("koban did not become ready in 30 s")
