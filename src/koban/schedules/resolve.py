"""The final schedule: layers, then overrides, resolved for an interval (pure).

``final(schedule, overrides, start, end, temporaries)`` returns consecutive slots that cover
[start, end) exactly once; a slot with nobody is a gap, never left out. A temporary schedule
replaces the layers for its period; overrides apply on top of either. The rules are in
docs/schedules.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from koban.core.local_time import instant, local, zone
from koban.schedules.grid import grid
from koban.schedules.model import Layer, Override, Rotation, Schedule, Slot, Temporary, Window

Span = tuple[float, float, str]  # start, end, person
# A slot as a plain tuple: (start, end, people, source, layer, overrides), as ``Slot``'s fields.
Run = tuple[float, float, tuple[str, ...], str, str | None, tuple[str, ...]]


def final(
    schedule: Schedule,
    overrides: Sequence[Override],
    start: float,
    end: float,
    temporaries: Sequence[Temporary] = (),
) -> list[Slot]:
    return [Slot(*r) for r in runs(schedule, overrides, start, end, temporaries)]


def runs(
    schedule: Schedule,
    overrides: Sequence[Override],
    start: float,
    end: float,
    temporaries: Sequence[Temporary] = (),
) -> list[Run]:
    """``final``'s slots as plain tuples, (start, end, people, source, layer, overrides): what
    counting a year of many schedules reads, without a frozen ``Slot`` built for each (about a
    microsecond apiece, a third of the on-call report's time)."""
    if end <= start:
        return []
    temps = [x for x in temporaries if x.start < end and x.end > start]
    spans = visible_spans(schedule, start, end)
    live = [o for o in overrides if o.start < end and o.end > start and o.end > o.start]
    cuts = {start, end}
    for s, e, _, _ in spans:  # within [start, end) already
        cuts.add(s)
        cuts.add(e)
    cuts.update(x for o in live for x in (o.start, o.end) if start < x < end)
    for t in temps:
        bounds = [t.start, t.end, *(x for a, b, _ in t.shifts for x in (a, b))]
        cuts.update(x for x in bounds if start < x < end)
    points = sorted(cuts)
    cursor, count = 0, len(spans)
    out: list[Run] = []
    # Overrides in force, kept by their place in ``overrides`` (the order they apply in): every
    # override bound is a cut point, so the set changes only there.
    pending = sorted(range(len(live)), key=lambda i: live[i].start)
    nxt, later = 0, len(pending)
    active: dict[int, Override] = {}
    sources = {n: f"layer:{n}" for n in {x[3] for x in spans}}
    key: tuple[tuple[str, ...], str, str | None, tuple[str, ...]] | None = None
    run_start = start
    for a in points[:-1]:
        while nxt < later and live[pending[nxt]].start <= a:
            active[pending[nxt]] = live[pending[nxt]]
            nxt += 1
        if active:
            for i in [i for i, o in active.items() if o.end <= a]:
                del active[i]
        while cursor < count and spans[cursor][1] <= a:
            cursor += 1
        base: tuple[str, ...] = ()
        layer: str | None = None
        under = "gap"
        tmp = next((x for x in reversed(temps) if x.start <= a < x.end), None) if temps else None
        if tmp is not None:  # the layers are replaced: a fixed shift, or a gap
            base = next((p for s, e, p in tmp.shifts if s <= a < e), ())
            under = f"temporary:{tmp.id}" if base else "gap"
        elif cursor < count and spans[cursor][0] <= a:
            _, _, person, layer = spans[cursor]
            base, under = (person,), sources[layer]
        if active:
            people, applied = _overridden(base, [active[i] for i in sorted(active)])
            here = (people, f"override:{applied[-1]}" if applied else under, layer, tuple(applied))
        else:
            here = (base, under, layer, ())
        if here != key:  # slots are maximal runs of one answer
            if key is not None:
                out.append((run_start, a, *key))
            key, run_start = here, a
    if key is not None:
        out.append((run_start, end, *key))
    return out


def slot_at(
    schedule: Schedule,
    overrides: Sequence[Override],
    at: float,
    temporaries: Sequence[Temporary] = (),
    horizon: float = 35 * 86400.0,
) -> Slot:
    """The slot in progress at ``at``, with its real start and end when within ``horizon`` of it.

    Slots are maximal runs of one answer, so a slot that does not touch the resolved window's edge
    is the same as in any wider window: resolve a day around ``at`` and widen only the side the
    slot reaches (the cost grows with the slot, not with ``horizon``: "who is on call now")."""
    back = ahead = min(86400.0, horizon)
    while True:
        slots = final(schedule, overrides, at - back, at + ahead, temporaries)
        slot = next(x for x in slots if x.start <= at < x.end)
        wider = False
        if slot.start <= at - back and back < horizon:
            back, wider = min(back * 4, horizon), True
        if slot.end >= at + ahead and ahead < horizon:
            ahead, wider = min(ahead * 4, horizon), True
        if not wider:
            return slot


def on_call_at(
    schedule: Schedule, overrides: Sequence[Override], at: float, temporaries: Sequence[Temporary] = ()
) -> Slot:
    """The slot in progress at ``at`` (how long it lasts is not looked for past the current shift)."""
    return final(schedule, overrides, at, at + 1.0, temporaries)[0]


def _overridden(base: tuple[str, ...], active: Iterable[Override]) -> tuple[tuple[str, ...], list[str]]:
    people = list(base)
    applied: list[str] = []
    for o in active:  # in the order given: later overrides apply on top
        before = list(people)
        if o.kind == "add":
            if o.person not in people:
                people.append(o.person)
        elif o.kind == "remove":
            people = [p for p in people if p != o.person]
        elif o.replaces is None:
            people = [o.person]
        elif o.replaces in people:
            people = [o.person if p == o.replaces else p for p in people]
            people = list(dict.fromkeys(people))
        if people != before or (o.kind == "replace" and o.replaces is None):
            applied.append(o.id or f"{o.kind}-{o.person}")
    return tuple(people), applied


def visible_spans(schedule: Schedule, start: float, end: float) -> list[tuple[float, float, str, str]]:
    """Who each layer has on call where it is the highest layer on: (start, end, person, layer),
    sorted and disjoint. From the top down, a layer is only asked about the time no higher layer
    holds, so layers a higher always-on layer hides cost nothing."""
    tz = zone(schedule.timezone)
    free = [(start, end)]
    out: list[tuple[float, float, str, str]] = []
    for layer in reversed(schedule.layers):
        if not free:
            break
        got = _intersect(layer_spans(layer, tz, free[0][0], free[-1][1]), free)
        if got:
            out.extend((s, e, who, layer.name) for s, e, who in got)
            free = _subtract(free, got)
    out.sort()
    return out


def _subtract(free: list[tuple[float, float]], taken: list[Span]) -> list[tuple[float, float]]:
    """``free`` less ``taken`` (sorted, disjoint, each within one interval of ``free``)."""
    out: list[tuple[float, float]] = []
    j, n = 0, len(taken)
    for a, b in free:
        cur = a
        while j < n and taken[j][0] < b:
            lo, hi = taken[j][0], taken[j][1]
            if lo > cur:
                out.append((cur, lo))
            if hi > cur:
                cur = hi
            j += 1
        if cur < b:
            out.append((cur, b))
    return out


def layer_spans(layer: Layer, tz: ZoneInfo, start: float, end: float) -> list[Span]:
    """Who the layer has on call within [start, end): its shifts, cut to its restrictions."""
    if not layer.members:
        return []
    k, bounds = handoffs(layer.rotation, layer.start, layer.handoff, tz, start, end)
    eras = [(0, 0, layer.members)]
    if layer.changes:
        g = grid(layer, tz)
        # A change takes effect at the first handoff at or after it; the same handoff: the later one.
        eras += [(max(g.index(c.at - 1e-6) + 1, 0), i + 1, c.members) for i, c in enumerate(layer.changes)]
        eras.sort()
    era, last = 0, len(eras) - 1  # eras[era] is in force for shift k: the last one starting at or before it
    first, _, members = eras[0]
    shifts: list[Span] = []
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        if era < last and eras[era + 1][0] <= k:
            while era < last and eras[era + 1][0] <= k:
                era += 1
            first, _, members = eras[era]
        if members:  # comparisons, not max/min calls: a year of shifts runs this often
            who = members[(k - first) % len(members)]
            shifts.append((lo if lo > start else start, hi if hi < end else end, who))
        k += 1
    if not layer.restrictions:
        return shifts
    return _intersect(shifts, windows(layer.restrictions, tz, start, end))


@lru_cache(maxsize=256)
def handoffs(
    rotation: Rotation, anchor: date, handoff: time, tz: ZoneInfo, start: float, end: float
) -> tuple[int, tuple[float, ...]]:
    """The shift k in progress at ``start`` (0 before the anchor) and the handoffs from its start
    to the first at or after ``end``. Cached: the layers of many schedules share a rotation, an
    anchor and a zone, and a report asks each of them about the same period."""
    g = grid(Layer("", (), rotation, anchor, handoff), tz)
    k = max(g.index(start), 0)
    out = [g.at(k)]
    while out[-1] < end:
        out.append(g.at(k + len(out)))
    return k, tuple(out)


@lru_cache(maxsize=256)  # shared like ``handoffs``: "weekdays 09:00-17:00" in one zone, one period
def windows(
    restrictions: tuple[Window, ...], tz: ZoneInfo, start: float, end: float
) -> tuple[tuple[float, float], ...]:
    """The restriction windows as merged instants within [start, end)."""
    first = local(start, tz).date() - timedelta(days=1)
    last = local(end, tz).date()
    spans: list[tuple[float, float]] = []
    day = first
    while day <= last:
        for w in restrictions:
            if day.weekday() not in w.days:
                continue
            s = instant(datetime.combine(day, w.start), tz)
            e_day = day if w.end > w.start else day + timedelta(days=1)
            e = instant(datetime.combine(e_day, w.end), tz)
            if e > start and s < end and e > s:
                spans.append((max(s, start), min(e, end)))
        day += timedelta(days=1)
    spans.sort()
    merged: list[tuple[float, float]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return tuple(merged)


def _intersect(shifts: list[Span], wins: Sequence[tuple[float, float]]) -> list[Span]:
    out: list[Span] = []
    j, n = 0, len(wins)
    for s, e, who in shifts:  # comparisons, not max/min calls: a year of layers runs this often
        while j < n and wins[j][1] <= s:
            j += 1
        i = j
        while i < n:
            lo, hi = wins[i]
            if lo >= e:
                break
            a = lo if lo > s else s
            b = hi if hi < e else e
            if a < b:
                out.append((a, b, who))
            i += 1
    return out
