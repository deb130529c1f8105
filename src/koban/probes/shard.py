"""Which prober process of a location runs a monitor: a stable hash share. Pure.

``koban probe --location NAME --shard i/n`` lets one location use n processes (n cores): each runs the
monitors whose hash falls in its share. The hash is of the monitor id alone (blake2b, not the salted
``hash()``), so every process agrees without talking, a restart keeps each monitor where it was, and
changing n moves only the monitors whose share changed. Shares are disjoint, so the per-location rows
(latest result, rollups) still have exactly one writer each.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Shard:
    index: int = 0  # 0-based
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index + 1}/{self.count} is not one of 1/{self.count}..")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"i/n"`` with 1 <= i <= n (as people count: ``1/2`` and ``2/2``)."""
        i, sep, n = text.partition("/")
        try:
            index, count = int(i), int(n)
        except ValueError:
            raise ValueError(f"shard must look like 1/2, got {text!r}") from None
        if not sep or count < 1 or not 1 <= index <= count:
            raise ValueError(f"shard must be i/n with 1 <= i <= n, got {text!r}")
        return cls(index - 1, count)

    def owns(self, monitor_id: str) -> bool:
        if self.count == 1:
            return True
        # A keyed digest, so the share is independent of the schedule's phase offset (same id).
        digest = hashlib.blake2b(monitor_id.encode(), digest_size=8, person=b"koban-shard").digest()
        return int.from_bytes(digest, "big") % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index + 1}/{self.count}"
