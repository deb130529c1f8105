"""Shared bits of the peer benches: the side-by-side table and machine facts printed with it.

Peers are started with koban.testing.peers (the same code the interop tests use).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass

from bench.load import LoadResult


@dataclass(frozen=True)
class Row:
    scenario: str
    target: str
    result: LoadResult
    baseline: LoadResult | None = None  # the peer's figure in the same scenario; gives the ratio


def ratio(value: float, baseline: float | None) -> str:
    if not baseline:
        return "-"
    return f"{value / baseline:.2f}x"


def print_table(title: str, rows: Sequence[Row], *, unit: str = "items/s") -> None:
    """Fixed-width table; the ratio column compares items/s with the row's baseline."""
    header = ("scenario", "target", "tool", unit, "req/s", "p50 ms", "p99 ms", "errors", "ratio")
    lines = [header]
    for row in rows:
        r = row.result
        lines.append(
            (
                row.scenario,
                row.target,
                r.tool,
                f"{r.items_per_s:,.0f}",
                f"{r.requests_per_s:,.0f}",
                f"{r.p50_ms:.2f}",
                f"{r.p99_ms:.2f}",
                str(r.errors),
                ratio(r.items_per_s, row.baseline.items_per_s if row.baseline else None),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print(f"\n## {title}")
    print(f"# {machine()}")
    for n, line in enumerate(lines):
        print(
            "  ".join(
                cell.ljust(w) if i < 3 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}, loopback, "
        f"load average {load}"
    )
