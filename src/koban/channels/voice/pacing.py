"""Calls-per-second pacing: a pure token bucket with the clock passed in.

Twilio queues calls beyond the account's CPS (default 1/s) instead of rejecting them, so a burst of
pages would silently queue behind each other; pacing on our side keeps ``Timeout`` (ring time) honest
and makes the delay visible. One bucket per account per process: with several senders, divide the rate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Bucket:
    rate: float = 1.0  # tokens per second (CPS)
    burst: float = 1.0  # bucket size
    tokens: float = 1.0
    updated_at: float | None = None

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")


def reserve(bucket: Bucket, now: float) -> tuple[Bucket, float]:
    """Take one token; returns the new bucket and how long to wait before using it (0 = now).

    The token is reserved even when the wait is positive, so concurrent callers queue up in order."""
    elapsed = 0.0 if bucket.updated_at is None else max(0.0, now - bucket.updated_at)
    tokens = min(bucket.burst, bucket.tokens + elapsed * bucket.rate) - 1.0
    wait = 0.0 if tokens >= 0 else -tokens / bucket.rate
    return replace(bucket, tokens=tokens, updated_at=now), wait


def release(bucket: Bucket) -> Bucket:
    """Give back a reserved token the caller decided not to use (it answered TRANSIENT instead)."""
    return replace(bucket, tokens=min(bucket.burst, bucket.tokens + 1.0))


class Pacer:
    """The one mutable holder of an account's bucket, shared by every channel on that account."""

    def __init__(self, rate: float) -> None:
        self.bucket = Bucket(rate=rate, burst=1.0)

    def reserve(self, now: float) -> float:
        self.bucket, wait = reserve(self.bucket, now)
        return wait

    def release(self) -> None:
        self.bucket = release(self.bucket)
