"""Probes per second with every result stored in the database, vs blackbox_exporter, same nginx target.

    .venv/bin/python -m bench.probe_stored [--seconds 10] [--database-url URL] [--concurrency 100]

One nginx worker serves a tiny file. koban: the production prober (``monitoring.prober.Prober``: runner,
batched store of raw results and latest-per-monitor, state rules, rollups) with more monitors due than
it can serve (every monitor at a 1 s interval), a fresh connection per probe, results committed in
batches (SQLite with koban's defaults: WAL, synchronous=FULL; or ``--database-url postgresql://...``,
on whose server a fresh database is made for each round). Counted: results *committed*, not probes
started. Peer: ``wrk`` asking blackbox_exporter's ``/probe?module=http_2xx`` for the same file
(blackbox keeps nothing; Prometheus would store it).
Both run in turns on the same 2 cores (``--rounds`` alternations; the median of each side is reported,
so load from other processes hits both alike), and each side's own CPU time is read too: probes per
CPU-second is the figure least distorted by a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

from bench.common import machine
from bench.load import LoadResult, have_wrk, run_load, run_wrk
from bench.probe_seed import fresh_postgres, seeded_system
from koban.bootstrap.system import System
from koban.db.schema_probes import probe_results
from koban.monitoring.prober import Prober
from koban.monitoring.raw import SUCCESS
from koban.testing.peers import run_blackbox, run_nginx


@dataclass(frozen=True)
class StoredRate:
    stored: int
    failed: int
    seconds: float
    cpu_seconds: float
    store_errors: int

    @property
    def per_s(self) -> float:
        return self.stored / self.seconds if self.seconds else 0.0


def use_uvloop() -> str:
    """uvicorn picks uvloop when it is installed, so ``koban serve`` runs on it; so do we."""
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


async def koban_stored_rate(
    url: str, database_url: str | None, seconds: float, concurrency: int, monitors: int, warmup: float
) -> StoredRate:
    """The production pipeline: Prober = Runner -> ProbeStore.write (raw rows + latest per monitor in
    one transaction per batch) -> judge (state rules on what was stored); rollups flushed every 10 s."""
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="koban-probe-bench-"))
        if database_url and database_url.startswith("postgres"):
            database_url = stack.enter_context(fresh_postgres(database_url))  # a new database per round
        async with seeded_system(
            Path(tmp), database_url=database_url, monitors=monitors, target=url, interval=1.0, timeout=5.0
        ) as k:
            prober = Prober(k.deps, "local", concurrency=concurrency)
            await prober.start()
            try:
                stats = prober.runner.stats
                await asyncio.sleep(warmup)
                stored0, cpu0, t0 = stats.stored, time.process_time(), time.perf_counter()
                await asyncio.sleep(seconds)
                stored1, cpu1, t1 = stats.stored, time.process_time(), time.perf_counter()
                failed = await count_failed(k)
            finally:
                await prober.stop()
            return StoredRate(stored1 - stored0, failed, t1 - t0, cpu1 - cpu0, stats.store_errors)


async def count_failed(k: System) -> int:
    async with k.db.read() as conn:
        c = probe_results.c
        q = sa.select(sa.func.count()).select_from(probe_results).where(c.flags.op("&")(SUCCESS) == 0)
        return int((await conn.execute(q)).scalar() or 0)


def cpu_seconds(pid: int) -> float:
    """utime + stime of another process (and its reaped children), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(x) for x in fields[11:15]) / ticks


async def blackbox_rate(
    probe_url: str, pid: int, seconds: float, connections: int
) -> tuple[LoadResult, float]:
    """(load result, blackbox CPU seconds used during it)."""
    cpu0 = cpu_seconds(pid)
    if have_wrk():
        result = await asyncio.to_thread(run_wrk, probe_url, connections=connections, duration=seconds)
    else:
        result = await run_load(probe_url, concurrency=connections, duration=seconds)
    return result, cpu_seconds(pid) - cpu0


async def run(args: argparse.Namespace) -> None:
    loop_name = "uvloop" if args.uvloop else "asyncio"
    async with run_nginx() as nginx, run_blackbox() as blackbox:
        target = nginx.url + "/tiny"
        probe_url = f"{blackbox.url}/probe?{urlencode({'target': target, 'module': 'http_2xx'})}"
        check = await run_load(probe_url, concurrency=1, requests=1, check=lambda b: b"probe_success 1" in b)
        if check.errors:
            raise SystemExit(f"blackbox cannot probe {target}:\n{blackbox.log_tail()}")
        db_name = (
            args.database_url.split(":", 1)[0] if args.database_url else "sqlite (WAL, synchronous=FULL)"
        )
        print(f"# {machine()}; {loop_name}; target: nginx, 1 worker, {target}; koban stores in {db_name}")
        ours: list[StoredRate] = []
        theirs: list[tuple[LoadResult, float]] = []
        for n in range(1, args.rounds + 1):
            k = await koban_stored_rate(
                target, args.database_url, args.seconds, args.concurrency, args.monitors, args.warmup
            )
            ours.append(k)
            print(
                f"round {n} koban   : {k.stored} stored in {k.seconds:.1f}s = {k.per_s:,.0f}/s, "
                f"{k.failed} failed, {k.store_errors} store errors, "
                f"CPU {k.cpu_seconds:.1f}s = {k.stored / k.cpu_seconds:,.0f} probes/CPU-s",
                flush=True,
            )
            bb, bb_cpu = await blackbox_rate(probe_url, blackbox.process.pid, args.seconds, args.connections)
            theirs.append((bb, bb_cpu))
            print(
                f"round {n} blackbox: {bb.summary()}; CPU {bb_cpu:.1f}s = "
                f"{bb.requests / bb_cpu if bb_cpu else 0:,.0f} probes/CPU-s",
                flush=True,
            )
        k_rate = statistics.median(k.per_s for k in ours)
        b_rate = statistics.median(b.requests_per_s for b, _ in theirs)
        k_eff = statistics.median(k.stored / k.cpu_seconds for k in ours)
        b_eff = statistics.median(b.requests / c for b, c in theirs if c)
        print(
            f"RESULT probes/s (median of {args.rounds}): koban stored {k_rate:,.0f}, "
            f"blackbox {b_rate:,.0f} (nothing stored); ratio {k_rate / b_rate:.2f}x (target >= 1.5x)"
        )
        print(
            f"RESULT probes per CPU-second: koban {k_eff:,.0f}, blackbox {b_eff:,.0f}; "
            f"ratio {k_eff / b_eff:.2f}x"
        )
        usage = resource.getrusage(resource.RUSAGE_SELF)
        print(f"# peak RSS of the bench process {usage.ru_maxrss / 1024:.0f} MiB", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per side")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: a fresh SQLite file; postgresql://...: a fresh database is created on that server",
    )
    parser.add_argument("--concurrency", type=int, default=100, help="probes in flight")
    parser.add_argument("--monitors", type=int, default=20_000, help="all at 1 s: more than can be served")
    parser.add_argument("--connections", type=int, default=20, help="wrk connections to blackbox")
    parser.add_argument("--rounds", type=int, default=3, help="koban/blackbox alternations")
    parser.add_argument("--no-uvloop", dest="uvloop", action="store_false")
    args = parser.parse_args(argv)
    if args.uvloop:
        args.uvloop = use_uvloop() == "uvloop"
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
