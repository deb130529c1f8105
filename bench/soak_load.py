"""The soak's ingest load: Alertmanager-format POSTs at a set rate, in a process of its own.

    python -m bench.soak_load --url http://127.0.0.1:8000 --key KEY --per-request 100 --rate 1300 \
        --seconds 1800 --out counts.jsonl

A rate, not a flood: the soak loads koban at half its measured capacity, so requests leave on a
schedule (``--rate`` per second, spread over ``--concurrency`` keep-alive connections, the ``--url``s
taken in turn so several instances share the work). A request that cannot leave on time because
every connection is busy leaves late, and one more than a second behind its slot is counted as
``missed`` instead of being sent in a burst: the generator's own shortfall is printed, never hidden
in koban's figures. Its own process, because one Python loop tops out near 8,000 requests/s and the
soak's other clients share the bench's loop.

Every ``--every`` seconds (and at the end) it appends one JSON line of cumulative counts to
``--out``: requests sent, 2xx, 429 (the backlog's bound: expected, not an error), errors (any other
status, exception or timeout) with the first few kept, alerts accepted, and the latencies' p99 of
the interval.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from bench.load import percentile

PATH = "/api/v2/alerts"
POOL = 5_000  # distinct alerts per stream, as bench.ingest_vs_alertmanager sends


def bodies(alertname: str, per_request: int, pool: int = POOL) -> list[bytes]:
    """``pool`` distinct firing alerts, ``per_request`` to a body, re-sent in turn as Prometheus does."""
    alerts = [
        {
            "labels": {"alertname": alertname, "instance": f"host-{i:05d}", "severity": "page"},
            "annotations": {"summary": f"soak alert {i}"},
        }
        for i in range(pool)
    ]
    step = max(1, per_request)
    return [json.dumps(alerts[s : s + step]).encode() for s in range(0, pool - step + 1, step)]


class Counts:
    def __init__(self) -> None:
        self.sent = self.ok = self.limited = self.errors = self.missed = self.alerts = 0
        self.samples: list[str] = []  # the first errors, to say what went wrong
        self.latencies: list[float] = []

    def line(self, at: float) -> str:
        lat = sorted(self.latencies)
        self.latencies = []
        fields = {k: v for k, v in vars(self).items() if k != "latencies"}
        return json.dumps({"at": at, **fields, "p99_ms": percentile(lat, 99) * 1000}) + "\n"

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.samples) < 5:
            self.samples.append(what)


def append(out: Path, line: str) -> None:
    # One short line every few seconds: a blocking write is cheaper than a thread hop.
    with out.open("a") as f:
        f.write(line)


async def run(args: argparse.Namespace) -> None:
    payloads = bodies(args.alertname, args.per_request)
    urls = [u.rstrip("/") + PATH for u in args.url]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {args.key}"}
    counts = Counts()
    out = Path(args.out)
    started = time.monotonic()
    deadline = started + args.seconds
    slots = itertools.count()

    async def worker(session: aiohttp.ClientSession) -> None:
        while True:
            n = next(slots)
            slot = started + n / args.rate
            if slot >= deadline:
                return
            wait = slot - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -1.0:
                counts.missed += 1
                continue
            t = time.perf_counter()
            counts.sent += 1
            try:
                async with session.post(urls[n % len(urls)], data=payloads[n % len(payloads)]) as r:
                    await r.read()
                    status = r.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                counts.error(f"{type(exc).__name__}: {exc}")
                continue
            counts.latencies.append(time.perf_counter() - t)
            if 200 <= status < 300:
                counts.ok += 1
                counts.alerts += args.per_request
            elif status == 429:
                counts.limited += 1
            else:
                counts.error(f"HTTP {status}")

    async def report() -> None:
        while True:
            await asyncio.sleep(args.every)
            append(out, counts.line(time.time()))

    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    reporter = asyncio.create_task(report())
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as session:
        await asyncio.gather(*(worker(session) for _ in range(args.concurrency)))
    reporter.cancel()
    append(out, counts.line(time.time()))


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--url", action="append", required=True, help="a koban base URL (repeat: taken in turn)")
    p.add_argument("--key", required=True, help="the integration key, sent as a bearer token")
    p.add_argument("--alertname", default="Soak")
    p.add_argument("--per-request", type=int, default=1)
    p.add_argument("--rate", type=float, required=True, help="requests per second")
    p.add_argument("--concurrency", type=int, default=20)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--every", type=float, default=10.0, help="seconds between count lines")
    p.add_argument("--out", required=True, help="JSON lines of cumulative counts are appended here")
    asyncio.run(run(p.parse_args(argv)))


if __name__ == "__main__":
    main()
