"""Login abuse: growing delays per account and per address (pure).

After ``FREE`` failures in a row, each further attempt must wait ``BASE * 2**(failures - FREE)``
seconds, capped at ``CAP``, counted from the last failure; a success clears the account's count.
Per account, a guesser cannot try one password per second forever; per address, one machine
cannot walk many accounts. A refused attempt is not checked at all, so it costs no Argon2 work.
"""

from __future__ import annotations

from dataclasses import dataclass

FREE = 5
BASE = 1.0
CAP = 15 * 60.0
FORGET_AFTER = 24 * 3600.0  # failures older than this no longer count


@dataclass(frozen=True, slots=True)
class Failures:
    count: int = 0
    last_at: float = 0.0


def wait_seconds(f: Failures, now: float) -> float:
    """0 when an attempt may be checked now, else how long until it may."""
    if f.count < FREE or now - f.last_at >= FORGET_AFTER:
        return 0.0
    delay = min(CAP, BASE * 2.0 ** (f.count - FREE))
    return max(0.0, f.last_at + delay - now)


def after_failure(f: Failures, now: float) -> Failures:
    count = 0 if now - f.last_at >= FORGET_AFTER else f.count
    return Failures(count + 1, now)


def retry_after(account: Failures, address: Failures, now: float) -> float:
    """The longer of the two waits: both limits hold."""
    return max(wait_seconds(account, now), wait_seconds(address, now))
