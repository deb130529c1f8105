"""Coverage of a final schedule, and which notices it calls for (pure).

``report``: the gaps and the on-call hours per person over an interval. ``gaps_to_warn``: the
uncovered gaps that start within the warning lead. ``incoming``: the people whose shift starts within
the handoff lead (someone on call in a slot who was not in the one before it). The I/O around them
(queueing each notice once, sending it) is paging/schedule_notices.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from koban.schedules.model import Slot


@dataclass(frozen=True, slots=True)
class Coverage:
    gaps: tuple[tuple[float, float], ...]
    hours: dict[str, float]  # person -> hours on call in the interval
    covered: float  # the share of the interval someone is on call, 0..1


def report(slots: Sequence[Slot]) -> Coverage:
    gaps: list[tuple[float, float]] = []
    hours: dict[str, float] = defaultdict(float)
    total = covered = 0.0
    for s in slots:
        total += s.end - s.start
        if s.gap:
            if gaps and gaps[-1][1] == s.start:  # one gap, however many slots describe it
                gaps[-1] = (gaps[-1][0], s.end)
            else:
                gaps.append((s.start, s.end))
            continue
        covered += s.end - s.start
        for p in s.people:
            hours[p] += (s.end - s.start) / 3600.0
    return Coverage(tuple(gaps), dict(sorted(hours.items())), covered / total if total else 1.0)


def gaps_to_warn(slots: Sequence[Slot], now: float, lead: float) -> list[tuple[float, float]]:
    """Gaps starting in [now, now + lead]; a gap already running at ``now`` is not news to warn of,
    except when it starts exactly then."""
    return [g for g in report(slots).gaps if now <= g[0] <= now + lead]


def incoming(slots: Sequence[Slot], now: float, lead: float) -> list[tuple[str, Slot]]:
    """(person, the slot they come on call in) for shifts starting in (now, now + lead].

    ``slots`` must start before ``now`` so that who was on call just before is known."""
    out: list[tuple[str, Slot]] = []
    for prev, s in zip(slots, slots[1:], strict=False):
        if now < s.start <= now + lead:
            out += [(p, s) for p in s.people if p not in prev.people]
    return out
