"""Log rules against a real OpenSearch node: rule lag with many rules run by one worker.

    .venv/bin/python -m bench.log_rules [--rules 500] [--interval 60] [--seconds 180]
        [--url http://127.0.0.1:9200]

Without ``--url`` it starts the peer node (peers/opensearch, built by scripts/install-peers.sh) on a
free port and stops it by PID. ``--rules`` frequency rules (each with a query_key, so each
query carries a terms aggregation) run by one worker every ``--interval`` seconds for ``--seconds``;
it prints the rule lag (started minus due) p50/p99/max and the node's CPU time over the run (from
/proc). Issue 14's target: lag p99 < 10 s at 500 rules per minute. (Log line -> page, the issue's
other figure, is not measured here yet.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import machine
from koban.bootstrap.system import System
from koban.catalog.apply import apply_config
from koban.config.model import ConfigFile
from koban.core.settings import Settings
from koban.testing.ports import free_port

PEER = Path(__file__).resolve().parents[1] / "peers" / "opensearch"
MAPPING = {"mappings": {"properties": {"@timestamp": {"type": "date"}, "level": {"type": "keyword"},
                                       "service": {"type": "keyword"}}}}  # fmt: skip


def start_node(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port, log_path = free_port(), home / "node.log"
    env = {**os.environ, "OS_HOME": str(home / "home"), "OS_HTTP_PORT": str(port)}
    with log_path.open("wb") as log:
        proc = subprocess.Popen([str(PEER / "run.sh")], env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 180
    while "READY " not in log_path.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"OpenSearch did not start:\n{log_path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    return proc, f"http://127.0.0.1:{port}"


def cpu_seconds(pid: int | None) -> float | None:
    if pid is None:
        return None
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def index_docs(url: str, index: str, docs: list[dict[str, Any]], refresh: str = "false") -> None:
    lines = "".join(json.dumps({"index": {}}) + "\n" + json.dumps(d) + "\n" for d in docs)
    async with aiohttp.ClientSession() as s:
        async with s.put(f"{url}/{index}", json=MAPPING) as r:
            await r.read()
        async with s.post(f"{url}/{index}/_bulk?refresh={refresh}", data=lines.encode(),
                          headers={"Content-Type": "application/x-ndjson"}) as r:  # fmt: skip
            assert r.status == 200, await r.text()


def config(url: str, rules: list[dict[str, Any]]) -> ConfigFile:
    return ConfigFile.model_validate({
        "people": [{"id": "alice", "notify": ["log"]}],
        "channels": [{"id": "log", "type": "console"}],
        "policies": [{"id": "p", "steps": [{"notify": [{"person": "alice"}]}]}],
        "services": [{"id": "shop", "policy": "p"}],
        "log_clusters": [{"id": "local", "url": url}],
        "log_rules": rules,
    })  # fmt: skip


async def system(db_dir: str, cfg: ConfigFile) -> System:
    k = System(Settings(database_url=f"sqlite:///{db_dir}/koban.db", data_dir=db_dir, secret_key="bench"))
    await k.start(worker=False)
    async with k.db.begin() as conn:
        await apply_config(conn, cfg, k.clock.now())
    await k.refresh_catalog(force=True)
    return k


async def rule_lag(url: str, n: int, interval: float, seconds: float, node_pid: int | None) -> None:
    now = time.time()
    await index_docs(url, "bench-lag", [{"@timestamp": now - i, "level": "ERROR", "service": f"s{i % 20}"}
                                        for i in range(2000)], refresh="true")  # fmt: skip
    rules = [{"id": f"r{i}", "cluster": "local", "service": "shop", "type": "frequency", "index": "bench-lag",
              "num_events": 10**9, "timeframe": "5m", "interval": f"{interval}s", "query_key": "service"}
             for i in range(n)]  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        k = await system(d, config(url, rules))
        lags: list[float] = []
        record = k.metrics.log_rule_run
        k.metrics.log_rule_run = lambda lag, took, ok: (lags.append(lag), record(lag, took, ok))  # type: ignore[method-assign]
        cpu0 = cpu_seconds(node_pid)
        task = asyncio.create_task(k.logs.run())
        await asyncio.sleep(seconds)
        k.logs.stop()
        await task
        cpu1 = cpu_seconds(node_pid)
        await k.stop()
    lags.sort()
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else float("nan")
    cpu = (
        f", node CPU {cpu1 - cpu0:.1f} s in {seconds:.0f} s" if cpu0 is not None and cpu1 is not None else ""
    )
    print(f"{n} rules every {interval:g} s for {seconds:g} s: {len(lags)} runs, lag p50 "
          f"{statistics.median(lags):.2f} s, p99 {p99:.2f} s, max {lags[-1]:.2f} s{cpu}")  # fmt: skip


async def main_async(args: argparse.Namespace) -> None:
    proc, url = None, args.url
    home = Path(tempfile.mkdtemp(prefix="bench-os-"))
    if url is None:
        proc, url = start_node(home)
    try:
        print(machine(), "| load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))
        await rule_lag(url, args.rules, args.interval, args.seconds, proc.pid if proc else None)
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--rules", type=int, default=500)
    p.add_argument("--interval", type=float, default=60.0)
    p.add_argument("--seconds", type=float, default=180.0)
    p.add_argument("--url", default=None)
    asyncio.run(main_async(p.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
