"""What bench/monitors_scale.py prints: throughput, lateness, RSS, CPU, API timings, disk and pruning."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bench.load import percentile
from bench.probe_disk import Tables, steady_state
from koban.core.settings import load_settings


def print_disk(args: argparse.Namespace, r: dict[str, float], t: Tables, pruned: tuple[int, float]) -> None:
    settings = load_settings(secret_key="bench")
    at = steady_state(t, args.steady_monitors, args.interval, settings)
    gib = lambda b: f"{b / 2**30:,.1f} GiB"  # noqa: E731
    print(
        f"disk per row: raw {t.raw_bytes:,.0f} B ({t.raw_per_probe:.2f} per probe, "
        f"{t.keep_share:.1%} kept long), minute {t.minute_bytes:,.0f} B, hour ~{t.hour_bytes:,.0f} B, "
        f"day ~{t.day_bytes:,.0f} B (hour/day: the rollup rows' overhead + the encoded merge of "
        f"60 / 1,440 of this run's minutes)"
    )
    print(
        f"steady state at {args.steady_monitors:,} monitors every {args.interval:g}s, default retention "
        f"(raw successes {settings.probe_raw_success_retention_days:g} d, failures/changes "
        f"{settings.probe_raw_retention_days:g} d, minutes {settings.probe_minute_retention_days:g} d, "
        f"hours {settings.probe_hour_retention_days:g} d, days {settings.probe_rollup_retention_days:g} d): "
        f"{gib(at['total'])} = raw {gib(at['raw'])} + minute {gib(at['minute'])} + hour {gib(at['hour'])} "
        f"+ day {gib(at['day'])}; written {at['written_per_probe']:,.0f} B per probe, "
        f"{at['per_probe_amortised']:,.0f} B per probe amortised over the "
        f"{settings.probe_raw_retention_days:g}-day window"
    )
    deleted, took = pruned
    written_per_s = r["rate"] * (t.raw_per_probe + 1)  # raw rows + one minute row per probe (60 s)
    hourly = written_per_s * 3600 / max(deleted / max(took, 1e-9), 1e-9)
    print(
        f"pruning while probing: {deleted:,} rows in {took:.1f}s = {deleted / max(took, 1e-9):,.0f} "
        f"rows/s against {written_per_s:,.0f} rows/s written; an hour's rows take {hourly:,.0f}s of "
        f"the hourly prune ({'keeps up' if hourly < 3600 else 'FALLS BEHIND'})"
    )


def layout(probers: int) -> str:
    if not probers:
        return "one koban serve process: API, worker and prober"
    return f"koban serve (API, worker) + {probers} koban probe --shard i/{probers} processes"


def wal_size(db: Path) -> int:
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def print_report(
    args: argparse.Namespace,
    r: dict[str, float],
    rss: list[float],
    api: dict[str, list[float]],
    cpu_shares: list[float],
    bytes_per_s: float,
) -> None:
    cpu_share = sum(cpu_shares)
    per_process = " + ".join(f"{c:.0%}" for c in cpu_shares)

    def ms(values: list[float], pct: float) -> str:
        return f"{percentile(sorted(values), pct):,.1f} ms" if values else "-"

    print(
        f"window {args.window:g}s after {args.warmup:g}s warm-up: {r['probes']:,} scheduled probes = "
        f"{r['rate']:,.0f}/s (wanted {r['wanted_rate']:,.0f}/s, {r['rate'] / r['wanted_rate']:.1%}); "
        f"monitors probed {r['covered']:.1%} (expected {r['expected_covered']:.1%}); "
        f"{r['failed']} failed results"
    )
    print(
        f"lateness vs grid slot: p50 {r['late_p50'] * 1000:,.0f} ms, p99 {r['late_p99'] * 1000:,.0f} ms, "
        f"max {r['late_max']:.1f} s; monitors that skipped a slot: {r['skipped']:,}"
    )
    print(
        f"koban ({layout(args.probers)}): RSS max {max(rss, default=0):,.0f} MiB "
        f"(end {rss[-1] if rss else 0:,.0f} MiB), CPU {cpu_share:.0%} of one core ({per_process}), "
        f"{cpu_share / max(r['rate'], 1e-9) * 1000:.2f} ms CPU per stored probe (API load included); "
        f"database grows {bytes_per_s * 3600 / 2**30:,.2f} GiB/hour; load average (1 min) up to "
        f"{r['load']:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"API while probing: list 100 of {args.monitors:,} p50 {ms(api['list'], 50)} "
        f"p95 {ms(api['list'], 95)} "
        f"(n={len(api['list'])}); 24 h graph p50 {ms(api['graph'], 50)} p95 {ms(api['graph'], 95)} "
        f"(n={len(api['graph'])}); errors {len(api['errors'])}"
    )
    keeps_up = r["rate"] >= 0.97 * r["wanted_rate"] and r["late_p99"] < args.interval / 2
    print(
        f"RESULT {args.monitors:,} monitors at {args.interval:g}s ({layout(args.probers)}): "
        f"{'sustained' if keeps_up else 'FELL BEHIND'} "
        f"({r['rate']:,.0f} of {r['wanted_rate']:,.0f} probes/s, "
        f"lateness p99 {r['late_p99'] * 1000:,.0f} ms); RSS {max(rss, default=0):,.0f} MiB; "
        f"API p95 list {ms(api['list'], 95)}, graph {ms(api['graph'], 95)}. "
        f"Uptime Kuma (documented, not measured): ~500-1,000 monitors"
    )
