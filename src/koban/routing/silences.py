"""Silences (Alertmanager): matchers + a time range + who and why. States pending/active/expired.

"Deleting" a silence expires it now, so the history stays. Replicas merge last-write-wins on
``updated_at``. Resolutions are never muted (see ``mute.py``): closing an incident is always safe.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from koban.routing.matchers import Matcher, matches_all


class SilenceState(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    updated_at: datetime

    def __post_init__(self) -> None:
        if not self.matchers:
            raise ValueError("a silence needs at least one matcher")
        if all(m.matches({}) for m in self.matchers):
            # Alertmanager's rule: otherwise the silence would mute every alert.
            raise ValueError("at least one matcher must not match the empty string")
        if self.ends_at < self.starts_at:
            raise ValueError("a silence must end after it starts")

    def state(self, now: datetime) -> SilenceState:
        if now < self.starts_at:
            return SilenceState.PENDING
        return SilenceState.ACTIVE if now < self.ends_at else SilenceState.EXPIRED

    def mutes(self, labels: Mapping[str, str], now: datetime) -> bool:
        return self.state(now) is SilenceState.ACTIVE and matches_all(self.matchers, labels)

    def reason(self) -> str:
        matchers = ", ".join(str(m) for m in self.matchers)
        why = f": {self.comment}" if self.comment else ""
        return (
            f"muted because silence {self.id} by {self.created_by} ({matchers}) "
            f"is active until {self.ends_at.isoformat()}{why}"
        )


def expire(silence: Silence, now: datetime) -> Silence:
    """End a silence now; a pending one ends before it ever started."""
    if silence.state(now) is SilenceState.EXPIRED:
        return silence
    starts = min(silence.starts_at, now)
    return replace(silence, starts_at=starts, ends_at=now, updated_at=now)


def merge(a: Silence, b: Silence) -> Silence:
    """Last write wins on ``updated_at`` (ties broken by end time, then the later id: deterministic)."""
    return max(a, b, key=lambda s: (s.updated_at, s.ends_at, s.id))


def silenced_by(silences: Iterable[Silence], labels: Mapping[str, str], now: datetime) -> list[Silence]:
    return [s for s in silences if s.mutes(labels, now)]
