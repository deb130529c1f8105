"""When each monitor is due: pure arithmetic, times in seconds, ``now`` always passed in.

Every monitor lives on a fixed grid ``offset + k * interval`` (epoch seconds). The offset comes from a
hash of the monitor id, so 100,000 monitors at 60 s spread evenly over the minute instead of all firing
at :00, and a restart (or a second location) puts each monitor back on the same grid. Anchoring on the
grid rather than on "last run + interval" means no drift, and after a stall (GC pause, overload, laptop
sleep) the missed slots are skipped: one run at the next slot, never a burst of catch-up runs.
"""

from __future__ import annotations

import hashlib
import math

MIN_INTERVAL = 1.0
MAX_INTERVAL = 86_400.0


def check_interval(seconds: float) -> float:
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise ValueError(f"interval must be between 1 s and 1 day, got {seconds:g} s")
    return float(seconds)


def phase_offset(monitor_id: str, interval: float) -> float:
    """Deterministic offset in [0, interval) at millisecond resolution (stable across processes,
    unlike ``hash()``, which is salted per process)."""
    digest = hashlib.blake2b(monitor_id.encode(), digest_size=8).digest()
    slots = max(1, round(interval * 1000))
    return (int.from_bytes(digest, "big") % slots) / 1000


def _slot(offset: float, interval: float, k: int) -> float:
    return offset + k * interval


def first_due(monitor_id: str, interval: float, now: float) -> float:
    """The first grid slot at or after ``now``."""
    offset = phase_offset(monitor_id, interval)
    return _slot(offset, interval, math.ceil((now - offset) / interval))


def next_due(prev_due: float, interval: float, offset: float, now: float) -> float:
    """The slot after ``prev_due``; if that is already in the past, the first slot at or after ``now``.

    Computed from the slot number, not by repeated addition, so float error never accumulates.
    """
    k = round((prev_due - offset) / interval) + 1
    due = _slot(offset, interval, k)
    if due < now:
        due = _slot(offset, interval, math.ceil((now - offset) / interval))
    return due
