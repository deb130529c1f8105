"""Per-key rate limits and a daily quota, as a pure decision over counters stored anywhere.

Fixed windows: per second, per minute, and per UTC day. ``decide(limits, counters, now)`` reads
the current counts (missing = 0) and returns either "allowed" with the counter increments to
apply, or a 429 with ``retry_after`` seconds (until the latest exceeded window resets, since every
exceeded window must reset before a retry can succeed). A rejected request consumes nothing, so a
client hammering us does not extend its own ban.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True, slots=True)
class Limits:
    per_second: int | None = None
    per_minute: int | None = None
    per_day: int | None = None


@dataclass(frozen=True, slots=True)
class CounterWindow:
    counter_id: str  # e.g. "svc-1:m:29000000" — store one row per id
    limit: int
    resets_at: datetime  # the row may be deleted after this


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    status: int  # 200-ish (the edge decides: 202, 200) when allowed, 429 otherwise
    retry_after: int = 0
    increments: Mapping[str, int] = field(default_factory=dict)
    expires: Mapping[str, datetime] = field(default_factory=dict)
    reason: str = ""


def windows(key: str, limits: Limits, now: datetime) -> list[CounterWindow]:
    """The counters that apply to ``key`` at ``now`` (ids change when a window rolls over)."""
    now = now.astimezone(UTC)
    epoch = now.timestamp()
    out = []
    if limits.per_second is not None:
        second = math.floor(epoch)
        out.append(CounterWindow(f"{key}:s:{second}", limits.per_second, _at(second + 1)))
    if limits.per_minute is not None:
        minute = math.floor(epoch / 60)
        out.append(CounterWindow(f"{key}:m:{minute}", limits.per_minute, _at((minute + 1) * 60)))
    if limits.per_day is not None:
        day = now.date()
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        out.append(CounterWindow(f"{key}:d:{day.isoformat()}", limits.per_day, midnight))
    return out


def decide(key: str, limits: Limits, counters: Mapping[str, int], now: datetime, cost: int = 1) -> Decision:
    applicable = windows(key, limits, now)
    exceeded = [w for w in applicable if counters.get(w.counter_id, 0) + cost > w.limit]
    if exceeded:
        resets = max(w.resets_at for w in exceeded)
        retry = max(1, math.ceil((resets - now).total_seconds()))
        names = ", ".join(w.counter_id.split(":")[-2] for w in exceeded)
        return Decision(False, 429, retry_after=retry, reason=f"rate limit exceeded ({names}) for {key}")
    return Decision(
        True,
        200,
        increments={w.counter_id: cost for w in applicable},
        expires={w.counter_id: w.resets_at for w in applicable},
    )


def _at(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, UTC)
