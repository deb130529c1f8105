"""Log rules against a real OpenSearch node: rule lag with many rules run by one worker, and the
time from a log line indexed to the page.

    .venv/bin/python -m bench.log_rules [--rules 500] [--interval 60] [--seconds 180] [--docs 2000]
        [--keys 20] [--spread] [--page-rounds 5] [--page-interval 10] [--url http://127.0.0.1:9200]

Without ``--url`` it starts the peer node (peers/opensearch, built by scripts/install-peers.sh) on a
free port and stops it by PID. Every size is a flag: small values prove the bench runs on a loaded
machine (``tests/bench/test_log_rules_smoke.py``), the defaults are issue 14's figures.

Rule lag: ``--rules`` frequency rules over ``--docs`` documents, each with a query_key of ``--keys``
values (so each query carries a terms aggregation), run by one worker every ``--interval`` seconds
for ``--seconds``; it prints the rule lag (started minus due) p50/p99/max, the runs that failed,
and the node's CPU time over the run (from /proc). New rules are all due at once, as after a config
apply, so every interval starts with the whole burst; ``--spread`` spreads their first due times
over the interval instead. Target: lag p99 < 10 s at 500 rules per minute.

Log line -> page: one frequency rule (``num_events: 1``, run every ``--page-interval`` seconds) on a
koban with its worker and a console channel; each round indexes one line with a new ``service``
(so a new alert and a new incident) and times until its page is sent (the delivery's ``sent_at``).
The node refreshes each second, as by default. Target: < 15 s with a 10 s interval.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa

from bench.common import machine
from koban.bootstrap.system import System
from koban.catalog.apply import apply_config
from koban.config.model import ConfigFile
from koban.core.settings import Settings
from koban.db import schema as t
from koban.db.schema_logs import log_rule_runs, log_rule_state
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
            await r.read()  # 400 when it exists already: the same mapping
        if not docs:
            return
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


async def system(db_dir: str, cfg: ConfigFile, *, worker: bool = False) -> System:
    k = System(Settings(database_url=f"sqlite:///{db_dir}/koban.db", data_dir=db_dir, secret_key="bench"))
    await k.start(worker=worker)
    async with k.db.begin() as conn:
        await apply_config(conn, cfg, k.clock.now())
    await k.refresh_catalog(force=True)
    return k


def stamp(epoch: float) -> str:
    # ISO, not a number: a date field reads a bare number as epoch *milliseconds*, so seconds since
    # the epoch landed in January 1970 and no rule ever counted a document.
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


async def spread_due(k: System, interval: float) -> None:
    """Rules' first runs spread evenly over one interval, as rules added over time would be."""
    await k.logs.sync_rules(k.catalog)
    now = k.clock.now()
    async with k.db.begin() as conn:
        ids = sorted((await conn.execute(sa.select(log_rule_runs.c.id))).scalars())
        for i, ident in enumerate(ids):
            due = now + interval * i / max(1, len(ids))
            await conn.execute(sa.update(log_rule_runs).where(log_rule_runs.c.id == ident).values(due_at=due))


async def rule_lag(url: str, args: argparse.Namespace, node_pid: int | None) -> None:
    n, interval, seconds = args.rules, args.interval, args.seconds
    now = time.time()
    step = 120 / args.docs  # within the rules' 5 m timeframe
    docs = [{"@timestamp": stamp(now - i * step), "level": "ERROR", "service": f"s{i % args.keys}"}
            for i in range(args.docs)]  # fmt: skip
    await index_docs(url, "bench-lag", docs, refresh="true")
    rules = [{"id": f"r{i}", "cluster": "local", "service": "shop", "type": "frequency", "index": "bench-lag",
              "num_events": 10**9, "timeframe": "5m", "interval": f"{interval}s", "query_key": "service"}
             for i in range(n)]  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        k = await system(d, config(url, rules))
        if args.spread:
            await spread_due(k, interval)
        lags: list[float] = []
        failed = 0
        record = k.metrics.log_rule_run

        def count(lag: float, took: float, ok: bool) -> None:
            nonlocal failed
            lags.append(lag)
            failed += not ok
            record(lag, took, ok)

        k.metrics.log_rule_run = count  # type: ignore[method-assign]
        cpu0 = cpu_seconds(node_pid)
        task = asyncio.create_task(k.logs.run())
        await asyncio.sleep(seconds)
        k.logs.stop()
        await task
        cpu1 = cpu_seconds(node_pid)
        async with k.db.read() as conn:  # proof the queries counted the documents: keys judged
            seen = (
                await conn.execute(sa.select(sa.func.count()).where(log_rule_state.c.rule_id == "r0"))
            ).scalar()
        await k.stop()
    if not lags:
        print(f"{n} rules every {interval:g} s for {seconds:g} s: no run finished")
        return
    cpu = (
        f", node CPU {cpu1 - cpu0:.1f} s in {seconds:.0f} s" if cpu0 is not None and cpu1 is not None else ""
    )
    print(f"RESULT rule lag: {n} rules every {interval:g} s for {seconds:g} s ({args.docs} docs, {args.keys} "
          f"keys{', spread' if args.spread else ''}): {len(lags)} runs, {failed} failed, lag p50 "
          f"{statistics.median(lags):.2f} s, p99 {quantile(lags, 0.99):.2f} s, max {max(lags):.2f} s"
          f"{cpu}; keys seen by r0: {seen}")  # fmt: skip


async def page_sent(k: System, key: str, wait: float) -> float | None:
    """When the page of the incident with this key was sent (epoch seconds), waiting up to ``wait``."""
    q = (
        sa.select(sa.func.min(t.deliveries.c.sent_at))
        .select_from(t.deliveries.join(t.incidents, t.incidents.c.id == t.deliveries.c.incident_id))
        .where(t.incidents.c.incident_key == key, t.deliveries.c.sent_at.is_not(None))
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        async with k.db.read() as conn:
            sent = (await conn.execute(q)).scalar()
        if sent is not None:
            return float(sent)
        await asyncio.sleep(0.05)
    return None


async def log_to_page(url: str, args: argparse.Namespace) -> None:
    index, interval = "bench-page", args.page_interval
    await index_docs(url, index, [])
    rule = {"id": "page", "cluster": "local", "service": "shop", "type": "frequency", "index": index,
            "num_events": 1, "timeframe": f"{max(60, 3 * interval):g}s", "interval": f"{interval:g}s",
            "query_key": "service", "filter": "level:FATAL"}  # fmt: skip
    took: list[float] = []
    with tempfile.TemporaryDirectory() as d:
        k = await system(d, config(url, [rule]), worker=True)
        try:
            for i in range(args.page_rounds):
                key = f"log_rule:page:round{i}"
                line = {"@timestamp": stamp(time.time()), "level": "FATAL", "service": f"round{i}"}
                indexed = time.time()
                await index_docs(url, index, [line])  # searchable at the node's next refresh (1 s)
                sent = await page_sent(k, key, wait=3 * interval + 30)
                if sent is None:
                    print(f"round {i}: no page within {3 * interval + 30:g} s")
                    continue
                took.append(sent - indexed)
                print(f"round {i}: log line -> page {sent - indexed:.2f} s")
        finally:
            await k.stop()
    if took:
        print(f"RESULT log line -> page with a {interval:g} s interval: {len(took)} rounds, p50 "
              f"{statistics.median(took):.2f} s, max {max(took):.2f} s")  # fmt: skip


async def main_async(args: argparse.Namespace) -> None:
    proc, url = None, args.url
    home = Path(tempfile.mkdtemp(prefix="bench-os-"))
    if url is None:
        proc, url = start_node(home)
    try:
        print(machine())
        if args.rules:
            await rule_lag(url, args, proc.pid if proc else None)
        if args.page_rounds:
            await log_to_page(url, args)
        print("load average after", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    p.add_argument("--rules", type=int, default=500, help="rules in the lag run (0: skip it)")
    p.add_argument("--interval", type=float, default=60.0, help="each rule's interval, seconds")
    p.add_argument("--seconds", type=float, default=180.0, help="how long the lag run lasts")
    p.add_argument("--docs", type=int, default=2000, help="documents the rules count over")
    p.add_argument("--keys", type=int, default=20, help="distinct query_key values among them")
    p.add_argument("--spread", action="store_true", help="spread the rules' first runs over an interval")
    p.add_argument("--page-rounds", type=int, default=5, help="log line -> page rounds (0: skip)")
    p.add_argument("--page-interval", type=float, default=10.0, help="the paging rule's interval")
    p.add_argument("--url", default=None, help="a running node (default: start the peer node)")
    args = p.parse_args(argv)
    if args.docs < 1 or args.keys < 1:
        p.error("--docs and --keys must be at least 1")
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
