"""100,000 monitors at a 60 s interval with ``koban serve`` on SQLite: does it keep up, and at what cost?

    .venv/bin/python -m bench.monitors_scale [--monitors 100000] [--interval 60] [--warmup 60] [--window 150]
        [--probers N]

Set-up (not timed): the monitors go straight into the config table (bench/probe_seed.py), each with its
own URL on one local nginx (``/tiny?m=<i>``), and 24 h of synthetic history is written for
``--history-monitors`` of them (a raw result and a minute rollup per minute, plus hour rollups), so the
graph query reads a table that already holds a day. Then the real ``koban serve`` starts (default
settings: SQLite WAL synchronous=FULL, 500 probes in flight per prober). ``--probers 0``: API, worker
and prober in that one process. ``--probers N`` (default 2, one per core): ``koban serve`` runs the
API and worker with its prober off, and N ``koban probe --shard i/N`` processes each probe a stable
hash share of the monitors (one Python process uses one core at most). The output says which.

Measured after ``--warmup`` seconds, over ``--window`` seconds:
- achieved probes/s and the share of monitors probed, from the stored results themselves;
- scheduling lateness: each scheduled probe's start minus its grid slot (``probes.schedule``), p50/p99/max;
- monitors that skipped a slot (a gap > 1.5 intervals between two probes inside the window);
- koban's RSS (max over the window, summed over its processes) and CPU (all processes), CPU per
  stored probe, and the load average;
- API p50/p95 of ``GET /api/v1/monitors?offset=..&limit=100`` and of one monitor's 24 h graph
  (``GET /api/v1/monitors/{id}/results?since=24h``), a few requests per second while it probes.
For scale: Uptime Kuma's maintainers describe ~500-1,000 monitors as where it starts to struggle
(a documented figure, not measured here).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import orjson

from bench.common import machine
from bench.load import percentile
from bench.monitors_scale_report import layout, print_disk, print_report, wal_size
from bench.oncall_http import add_token
from bench.probe_disk import measure, prune_rate
from bench.probe_seed import monitor_id, seed_history, seeded_system
from koban.probes.schedule import phase_offset
from koban.testing.peers import run_nginx
from koban.testing.process import Peer, _die_with_parent, start_peer

KOBAN = str(Path(sys.executable).with_name("koban"))


# -- set-up ------------------------------------------------------------------------------------------


async def seed_monitors(workdir: Path, count: int, target: str, interval: float) -> Path:
    async with seeded_system(
        workdir,
        database_url=None,
        monitors=count,
        target=target,
        interval=interval,
        timeout=10.0,
        load_catalog=False,
    ):
        pass
    return workdir / "koban.db"


def _env(workdir: Path, db: Path) -> list[str]:
    return [
        "env",
        f"KOBAN_DATABASE_URL=sqlite:///{db}",
        f"KOBAN_DATA_DIR={workdir}",
        "KOBAN_SECRET_KEY=bench-secret",
        "KOBAN_LOG_LEVEL=WARNING",
    ]


async def start_koban(workdir: Path, db: Path, probe: bool) -> Peer:
    def argv(port: int) -> list[str]:
        return [
            *_env(workdir, db),
            f"KOBAN_PROBE_ENABLED={'true' if probe else 'false'}",
            KOBAN,
            "serve",
            "--host=127.0.0.1",
            f"--port={port}",
        ]

    # Loading and validating 100,000 monitors happens before /healthz answers.
    return await start_peer("koban", argv, workdir, ready_path="/healthz", ready_within=600)


async def start_probers(workdir: Path, db: Path, count: int) -> list[subprocess.Popen[bytes]]:
    """``koban probe --shard i/count`` processes; returns once each says it runs its monitors."""
    procs, logs = [], []
    for i in range(1, count + 1):
        log = workdir / f"prober-{i}.log"
        logs.append(log)
        with log.open("wb") as out:
            argv = [*_env(workdir, db), KOBAN, "probe", "--location=local", f"--shard={i}/{count}"]
            procs.append(
                subprocess.Popen(  # noqa: ASYNC220 - forked from the loop thread (see testing.process)
                    [*argv, "--no-migrate"],
                    cwd=workdir,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            )
    deadline = time.monotonic() + 600
    while not all("running" in log.read_text() for log in logs):
        for p, log in zip(procs, logs, strict=True):
            if p.poll() is not None:
                raise RuntimeError(f"prober exited {p.returncode}: {log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError("probers did not start within 600 s")
        await asyncio.sleep(0.5)
    return procs


async def stop_probers(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)  # each stores what it buffered and flushes its rollups
    for p in procs:
        try:
            await asyncio.to_thread(p.wait, 120)
        except subprocess.TimeoutExpired:
            p.kill()


# -- measuring -----------------------------------------------------------------------------------------


def proc_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def sample_rss(pids: list[int], until: float, out: list[float], each: dict[int, float]) -> None:
    """``out``: the sum over processes at each sample; ``each``: every process's maximum."""
    while time.monotonic() < until:
        now = {pid: proc_rss_mib(pid) for pid in pids}
        out.append(sum(now.values()))
        for pid, mib in now.items():
            each[pid] = max(each.get(pid, 0.0), mib)
        await asyncio.sleep(2)


async def api_load(
    base: str, token: str, monitors: int, history_monitors: int, until: float, per_second: float
) -> dict[str, list[float]]:
    """Alternate a list page and a 24 h graph, ``per_second`` requests per second of each."""
    times: dict[str, list[float]] = {"list": [], "graph": [], "errors": []}
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60), headers=headers) as s:
        while time.monotonic() < until:
            tick = time.monotonic()
            offset = random.randrange(0, max(1, monitors - 100))
            ident = monitor_id(random.randrange(max(1, history_monitors)))
            for kind, url in (
                ("list", f"{base}/api/v1/monitors?offset={offset}&limit=100"),
                ("graph", f"{base}/api/v1/monitors/{ident}/results?since=24h"),
            ):
                t = time.perf_counter()
                async with s.get(url) as r:
                    body = await r.read()
                    ok = r.status == 200
                elapsed = (time.perf_counter() - t) * 1000
                times[kind if ok else "errors"].append(elapsed)
                if kind == "graph" and ok and not orjson.loads(body)["points"]:
                    times["errors"].append(elapsed)  # an empty graph means the seed was not read
            await asyncio.sleep(max(0.0, 1 / per_second - (time.monotonic() - tick)))
    return times


def schedule_report(db: Path, t0: float, t1: float, interval: float, monitors: int) -> dict[str, float]:
    """Lateness of scheduled probes (attempt 0) that started inside [t0, t1), from the stored rows."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT s.monitor_id, r.started_ms / 1000.0 FROM probe_results r JOIN probe_series s"
            " ON s.id = r.series_id WHERE r.attempt = 0 AND r.started_ms >= ? AND r.started_ms < ?"
            " ORDER BY r.started_ms",
            (t0 * 1000, t1 * 1000),
        ).fetchall()
        failed = conn.execute(
            "SELECT COUNT(*) FROM probe_results WHERE flags & 1 = 0 AND started_ms >= ? AND started_ms < ?",
            (t0 * 1000, t1 * 1000),
        ).fetchone()[0]
    late: list[float] = []
    offsets: dict[str, float] = {}
    seen: dict[str, list[float]] = defaultdict(list)
    for ident, started in rows:
        off = offsets.get(ident)
        if off is None:
            off = offsets[ident] = phase_offset(ident, interval)
        slot = off + math.floor((started - off) / interval) * interval
        late.append(started - slot)
        seen[ident].append(started)
    skipped = sum(
        any(b - a > 1.5 * interval for a, b in zip(ts, ts[1:], strict=False)) for ts in seen.values()
    )
    late.sort()
    span = t1 - t0
    return {
        "probes": len(rows),
        "rate": len(rows) / span,
        "wanted_rate": monitors / interval,
        "covered": len(seen) / monitors,
        "expected_covered": min(1.0, span / interval),
        "late_p50": percentile(late, 50),
        "late_p99": percentile(late, 99),
        "late_max": late[-1] if late else 0.0,
        "skipped": skipped,
        "failed": failed,
    }


async def run(args: argparse.Namespace) -> None:
    print(f"# {machine()}; {args.monitors:,} monitors every {args.interval:g}s; SQLite WAL synchronous=FULL")
    with tempfile.TemporaryDirectory(prefix="koban-scale-") as tmp:
        workdir = Path(tmp)
        async with run_nginx(workdir) as nginx:
            t = time.monotonic()
            db = await seed_monitors(workdir, args.monitors, nginx.url + "/tiny?m={i}", args.interval)
            print(f"set-up: {args.monitors:,} monitors inserted in {time.monotonic() - t:.0f}s", flush=True)
            t = time.monotonic()
            rows = await asyncio.to_thread(
                seed_history, db, args.history_monitors, args.interval, time.time()
            )
            print(
                f"set-up: 24 h of history for {args.history_monitors:,} monitors ({rows:,} rows) in "
                f"{time.monotonic() - t:.0f}s; database {db.stat().st_size / 2**20:,.0f} MiB",
                flush=True,
            )
            token = await add_token(f"sqlite:///{db}")  # a reader for the API load
            t = time.monotonic()
            koban = await start_koban(workdir, db, probe=not args.probers)
            probers: list[subprocess.Popen[bytes]] = []
            try:
                probers = await start_probers(workdir, db, args.probers) if args.probers else []
                pids = [koban.process.pid, *(p.pid for p in probers)]
                print(
                    f"koban ready in {time.monotonic() - t:.0f}s ({layout(args.probers)}), "
                    f"RSS {sum(map(proc_rss_mib, pids)):,.0f} MiB",
                    flush=True,
                )
                await asyncio.sleep(args.warmup)
                size0 = db.stat().st_size + wal_size(db)
                cpu0 = [proc_cpu_seconds(p) for p in pids]
                t0, mono0 = time.time(), time.monotonic()
                until = mono0 + args.window
                rss: list[float] = []
                each: dict[int, float] = {}
                loads = [os.getloadavg()[0]]
                api, _ = await asyncio.gather(
                    api_load(koban.url, token, args.monitors, args.history_monitors, until, args.api_rate),
                    sample_rss(pids, until, rss, each),
                )
                loads.append(os.getloadavg()[0])
                t1 = time.time()
                cpu = [proc_cpu_seconds(p) - c0 for p, c0 in zip(pids, cpu0, strict=True)]
                size1 = db.stat().st_size + wal_size(db)
                # While the probers go on writing: delete what the window's start would leave behind.
                pruned = await prune_rate(f"sqlite:///{db}", t0, time.time())
                loads.append(os.getloadavg()[0])
            finally:
                await stop_probers(probers)
                await koban.stop(grace=60)  # let it store what is buffered
            # Rows of probes started near t1 may still have been in the batch buffer: stop flushed them.
            report = schedule_report(db, t0, t1 - 2, args.interval, args.monitors)
            tables = measure(db, t0, t1 - 2, int(report["probes"]))
    report["load"] = max(loads)
    print_report(args, report, rss, api, [c / (t1 - t0) for c in cpu], (size1 - size0) / (t1 - t0))
    names = ["koban serve", *(f"probe {i}/{args.probers}" for i in range(1, args.probers + 1))]
    shown = ", ".join(f"{n} {each.get(p, 0):,.0f} MiB" for n, p in zip(names, pids, strict=True))
    print(f"RSS per process (max): {shown}")
    print_disk(args, report, tables, pruned)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--monitors", type=int, default=100_000)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before the window opens")
    parser.add_argument("--window", type=float, default=150.0, help="measured seconds")
    parser.add_argument("--history-monitors", type=int, default=300, help="monitors given 24 h of history")
    parser.add_argument(
        "--probers", type=int, default=2, help="koban probe --shard processes (0: serve probes itself)"
    )
    parser.add_argument(
        "--steady-monitors", type=int, default=100_000, help="monitors the steady-state size is computed for"
    )
    parser.add_argument("--api-rate", type=float, default=2.0, help="list + graph requests per second")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
