"""Retry delays: exponential with full jitter, never sooner than the vendor's Retry-After."""

from __future__ import annotations

import random


def retry_delay(
    attempt: int,
    retry_after: float | None = None,
    *,
    base: float = 1.0,
    cap: float = 300.0,
    rng: random.Random | None = None,
) -> float:
    r = rng or random
    delay = r.uniform(base / 2, min(cap, base * 2 ** max(0, attempt - 1)))
    return max(delay, retry_after or 0.0)
