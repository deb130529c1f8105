"""blackbox_exporter probing nginx, in probes/s: the peer figure for koban's prober to beat.

    python -m bench.blackbox_peer [--duration 5] [--concurrency 10 50]

Prints nginx itself (keep-alive, and a new connection per request: the ceiling for any prober
that opens a fresh connection per check) and blackbox's ``/probe?module=http_2xx`` against it.
Compare with bench/probe_throughput.py (koban's prober). peers.md: ~2,600 probes/s here.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from urllib.parse import urlencode

from bench.common import Row, print_table
from bench.load import LoadResult, have_wrk, run_load, run_wrk
from koban.testing.peers import run_blackbox, run_nginx


def probe_succeeded(body: bytes) -> bool:
    return b"\nprobe_success 1\n" in body


async def load(url: str, args: argparse.Namespace, concurrency: int, **extra: object) -> LoadResult:
    if args.tool == "wrk":
        return await asyncio.to_thread(run_wrk, url, connections=concurrency, duration=args.duration, **extra)
    return await run_load(url, concurrency=concurrency, duration=args.duration, **extra)


async def run(args: argparse.Namespace) -> None:
    async with run_nginx(worker_processes=args.nginx_workers) as nginx, run_blackbox() as blackbox:
        target = nginx.url + "/tiny"
        probe_url = f"{blackbox.url}/probe?{urlencode({'target': target, 'module': 'http_2xx'})}"
        sample = await run_load(probe_url, concurrency=1, requests=1, check=probe_succeeded)
        if sample.errors:
            raise SystemExit(f"blackbox could not probe {target}; see {blackbox.log_path}")
        rows: list[Row] = []
        # Without the body check wrk cannot see failed probes (blackbox answers 200 either way);
        # a short aiohttp pass with the check counts them.
        checked = await run_load(
            probe_url,
            concurrency=max(args.concurrency),
            duration=min(args.duration, 3),
            check=probe_succeeded,
        )
        cells = [
            ("nginx keep-alive", target, {}),
            ("nginx new conn/request", target, {"headers": {"Connection": "close"}}),
        ]
        for name, url, extra in cells:
            rows.append(Row(name, "nginx", await load(url, args, max(args.concurrency), **extra)))
        ceiling = rows[-1].result  # a probe is at best one new connection + one request
        for concurrency in args.concurrency:
            result = await load(probe_url, args, concurrency)
            rows.append(Row(f"probe http_2xx c{concurrency}", "blackbox", result, ceiling))
        rows.append(Row("probe, body checked", "blackbox", checked, ceiling))
        for row in rows:
            print(f"{row.scenario:<24} {row.result.summary()}", flush=True)
    print_table("blackbox probing nginx /tiny (ratio = probes / nginx new-conn ceiling)", rows, unit="per s")
    print(f"failed probes in the checked pass: {checked.errors} of {checked.requests}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per cell (max 60)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 50])
    parser.add_argument(
        "--nginx-workers", default="1", help="nginx worker_processes (1 leaves a core to blackbox)"
    )
    parser.add_argument("--tool", choices=["wrk", "aiohttp"], default="wrk" if have_wrk() else "aiohttp")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
