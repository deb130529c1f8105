"""``make bench``: every peer-side benchmark in one run (each prints its own table)."""

from __future__ import annotations

import sys

from bench import (
    blackbox_peer,
    calls_pacing,
    ingest_vs_alertmanager,
    monitors_scale,
    paging_burst,
    paging_latency,
    paging_lateness,
    probe_stored,
    wake_vs_prometheus,
)


def main() -> int:
    status = 0
    for mod in (
        ingest_vs_alertmanager,
        blackbox_peer,
        calls_pacing,
        paging_burst,
        paging_lateness,
        paging_latency,
        probe_stored,
        wake_vs_prometheus,
        monitors_scale,  # last: ~7 minutes (100,000 monitors, 24 h of seeded history)
    ):
        print(f"== {mod.__name__}", flush=True)
        status |= mod.main([]) or 0
    return status


if __name__ == "__main__":
    sys.exit(main())
