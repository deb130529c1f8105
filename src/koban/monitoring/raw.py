"""The compact form of one raw probe result (``probe_results``): integers instead of floats and text.

Times are whole milliseconds, phases and durations whole microseconds (a loopback probe takes
~400 us; SQLite stores such an integer in 2 or 3 bytes and a zero in none), success/final/kept in
one small ``flags`` integer, no error as NULL. ``KEEP`` marks what outlives the short retention of
successes: a failed attempt, or a final result whose success differs from the previous one at its
location (a state change, so a recovery's first success stays next to the failures before it).
"""

from __future__ import annotations

from typing import Any

from koban.probes.result import PHASES, ProbeResult

SUCCESS, FINAL, KEEP = 1, 2, 4
COLUMNS = (
    "series_id",
    "started_ms",
    "attempt",
    "flags",
    "status_code",
    "duration_us",
    *(f"{p}_us" for p in PHASES),
    "error",
    "cert_expiry",
)


def _us(seconds: float) -> int:
    return max(0, round(seconds * 1_000_000))


def flags_of(r: ProbeResult, changed: bool) -> int:
    keep = not r.success or changed
    return SUCCESS * r.success | FINAL * r.final | KEEP * keep


def encode(series_id: int, r: ProbeResult, changed: bool) -> tuple[Any, ...]:
    """A ``probe_results`` row in ``COLUMNS`` order; ``changed``: a final result whose success
    differs from the previous final one at its location."""
    p = r.phases
    return (
        series_id,
        round(r.started_at.timestamp() * 1000),
        min(r.attempt, 32767),
        flags_of(r, changed),
        max(-32768, min(r.status_code, 32767)),
        _us(r.duration),
        *(_us(getattr(p, name)) for name in PHASES),
        r.error[:2000] or None,
        round(r.cert.earliest_expiry.timestamp()) if r.cert else None,
    )
