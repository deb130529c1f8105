"""The clock, read only at entry points and passed down as ``now`` (tests use FakeClock)."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """The one way capabilities read the time: injected, so tests pin or advance it."""

    def now(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds
