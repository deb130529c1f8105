"""Alert ingest: Alertmanager's own ``POST /api/v2/alerts`` vs any compatible endpoint (koban).

    python -m bench.ingest_vs_alertmanager                       # Alertmanager and a koban it starts
    python -m bench.ingest_vs_alertmanager --koban-url http://127.0.0.1:8000 --koban-key KEY
    python -m bench.ingest_vs_alertmanager --no-koban            # Alertmanager only

Each target is a base URL plus headers, loaded in the same run with the same bodies: 1 and 100
distinct alerts per request, ``--concurrency`` connections, ``--duration`` seconds per cell.
koban's figure is alerts accepted and committed to disk before the 2xx (Alertmanager holds them in
memory); most sources' alerts wait in koban's ingest inbox for the worker, so the bench then runs a
``koban worker`` for ``--drain-seconds`` and prints the rate at which it turns them into incidents.
peers.md measured Alertmanager at ~17,000 alerts/s (1 per request) and ~66,000 (100 per request).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp

from bench.common import Row, print_table
from bench.koban_server import KobanServer, run_koban
from bench.load import LoadResult, have_wrk, run_load, run_wrk
from koban.testing.peers import run_alertmanager

PATH = "/api/v2/alerts"
# Distinct alerts per scenario: enough that a store keyed by fingerprint does real upserts,
# few enough that the Lua script wrk loads stays small.
POOL_ALERTS = 5_000


@dataclass(frozen=True)
class Target:
    name: str
    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + PATH


def alert_bodies(per_request: int, pool: int = POOL_ALERTS) -> list[bytes]:
    """JSON arrays of ``per_request`` alerts each, covering ``pool`` distinct label sets."""
    alerts = [
        {
            "labels": {"alertname": "BenchIngest", "instance": f"host-{i:05d}", "severity": "page"},
            "annotations": {"summary": f"bench alert {i}"},
            "generatorURL": "http://127.0.0.1/bench",
        }
        for i in range(pool)
    ]
    return [
        json.dumps(alerts[start : start + per_request]).encode()
        for start in range(0, pool - per_request + 1, per_request)
    ]


async def check_accepts(target: Target, body: bytes) -> None:
    """One request before the load, so a wrong URL or key fails loudly instead of as 100% errors."""
    headers = {"Content-Type": "application/json", **target.headers}
    async with (
        aiohttp.ClientSession() as session,
        session.post(target.url, data=body, headers=headers) as resp,
    ):
        if not 200 <= resp.status < 300:
            raise SystemExit(f"{target.name}: POST {target.url} -> {resp.status} {await resp.text()}")


async def measure(
    target: Target, bodies: Sequence[bytes], per_request: int, args: argparse.Namespace
) -> LoadResult:
    headers = {"Content-Type": "application/json", **target.headers}
    if args.tool == "wrk":
        return await asyncio.to_thread(
            run_wrk,
            target.url,
            method="POST",
            bodies=bodies,
            headers=headers,
            connections=args.concurrency,
            duration=args.duration,
            items_per_request=per_request,
        )
    return await run_load(
        target.url,
        method="POST",
        bodies=bodies,
        headers=headers,
        concurrency=args.concurrency,
        duration=args.duration,
        items_per_request=per_request,
    )


async def run(args: argparse.Namespace) -> None:
    if args.koban_url or args.no_koban:
        await compare(args, None)
        return
    # koban as shipped: `koban serve`, SQLite with its defaults (WAL, synchronous=FULL).
    async with run_koban("prometheus") as koban:
        await compare(args, koban)
        queued = koban.queued_alerts()
        print(
            f"# koban stored {koban.stored_alerts():,} alerts, each committed before its 2xx "
            f"({queued:,} in the ingest inbox, the rest already incidents' alert rows)"
        )
        if args.drain_seconds and queued:
            done, took, left = await koban.drain(args.drain_seconds)
            print(
                f"# drain: a koban worker turned {done:,} queued alerts into incidents in {took:.1f} s "
                f"= {done / took:,.0f} alerts/s processed ({left:,} still queued)"
            )


async def compare(args: argparse.Namespace, koban: KobanServer | None) -> None:
    async with run_alertmanager(webhook_url=None, group_wait="30s", group_interval="5m") as am:
        targets = [Target("alertmanager", am.url)]
        if koban is not None:
            targets.append(Target("koban", koban.url, {"Authorization": f"Bearer {koban.key}"}))
        elif args.koban_url:
            auth = {"Authorization": f"Bearer {args.koban_key}"} if args.koban_key else {}
            targets.append(Target("koban", args.koban_url, auth))
        rows: list[Row] = []
        for per_request in args.batch:
            bodies = alert_bodies(per_request)
            baseline: LoadResult | None = None
            for target in targets:
                await check_accepts(target, bodies[0])
                result = await measure(target, bodies, per_request, args)
                baseline = baseline or result
                scenario = f"{per_request} alert{'s' if per_request > 1 else ''}/request"
                rows.append(Row(scenario, target.name, result, baseline))
                print(f"{scenario:<18} {target.name:<13} {result.summary()}", flush=True)
    print_table("POST /api/v2/alerts: alerts/s (ratio = target / alertmanager)", rows, unit="alerts/s")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--koban-url", help="base URL whose /api/v2/alerts takes Alertmanager's format")
    parser.add_argument("--koban-key", help="sent as 'Authorization: Bearer KEY'")
    parser.add_argument("--no-koban", action="store_true", help="measure Alertmanager alone")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per cell (max 60)")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 100], help="alerts per request")
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=20.0,
        help="then run a koban worker this long on the backlog and print its processing rate (0: skip)",
    )
    parser.add_argument("--tool", choices=["wrk", "aiohttp"], default="wrk" if have_wrk() else "aiohttp")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
