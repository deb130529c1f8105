"""Deliveries of one body in a drain batch, parsed once (issue 18: repeats collapse).

In a flood, most rows of a batch are the same bytes again: Prometheus re-sends an unchanged rule's
alerts as the same body each evaluation (and ``bench.ingest_vs_alertmanager`` sends 50 bodies
over and over). Parsing each of them built the same events again, only to apply them as repeats.
``Run`` gathers the rows of one integration's run by body: the first row of a body is parsed and
its events kept in place; the later rows become ``Repeats`` of those events (``triage/repeats.py``),
built from two parses only, at the earliest and the latest receipt among them: a source's times
move with the receipt, never back, so every row between has events between those two.

A later row joins its body's first only while no other body touched the same alerts or incidents
in between (a row that did starts a new run of the body), and only when every event of the body
may be gathered (``collapsible``) and no two of them share an incident (copies are applied right
after their own event); otherwise, and when the two parses differ in more than times (an
``endsAt`` passed meanwhile turns a trigger into a resolve), each row is parsed and applied as it
came.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from koban.catalog.snapshot import Catalog
from koban.domain.alerts import AlertEvent
from koban.triage.repeats import Repeats, collapsible, signature


@dataclass(slots=True)
class _Body:
    first: Any  # the row
    events: list[AlertEvent]
    later: list[Any] = field(default_factory=list)


class Run:
    """The rows of one integration, in arrival order, as events and their gathered repeats."""

    def __init__(self, catalog: Catalog, service_id: str, parse: Callable[[Any], list[AlertEvent]]) -> None:
        self.catalog, self.service_id, self.parse = catalog, service_id, parse
        self.bodies: list[_Body] = []
        self._open: dict[bytes, _Body] = {}  # bodies a later row may still join
        self._last: dict[str, _Body] = {}  # incident or alert key -> the body that touched it last

    def add(self, row: Any, *, gather: bool = True) -> None:
        """One more row (``PayloadError`` from ``parse`` when it cannot become events); ``gather``
        False: kept apart from earlier rows of its body."""
        body = self._open.get(row.body) if gather else None
        if body is not None:
            body.later.append(row)
            return
        body = _Body(row, self.parse(row))
        for ev in body.events:
            for key in (ev.incident_key, "\x1f" + ev.dedup_key):
                before = self._last.get(key)
                if before is not None and before is not body and self._open.get(before.first.body) is before:
                    del self._open[before.first.body]  # another body came between: no more joining it
                self._last[key] = body
        # Copies are applied right after their own event: a body whose alerts share an incident
        # (an Alertmanager group) would have one alert's copies applied before another's first.
        alone = len({ev.incident_key for ev in body.events}) == len(body.events)
        if gather and alone and all(collapsible(self.catalog, self.service_id, ev) for ev in body.events):
            self._open[row.body] = body
        self.bodies.append(body)

    def events(self) -> tuple[list[AlertEvent], dict[int, Repeats]]:
        events: list[AlertEvent] = []
        repeats: dict[int, Repeats] = {}
        for body in self.bodies:
            base = len(events)
            events.extend(body.events)
            if body.later:
                gathered = self._repeats(body)
                if gathered is None:
                    for row in body.later:
                        events.extend(self.parse(row))
                else:
                    repeats.update((base + i, rest) for i, rest in enumerate(gathered))
        return events, repeats

    def _repeats(self, body: _Body) -> list[Repeats] | None:
        rows = body.later
        early = min(rows, key=lambda r: r.received_at)
        late = max(rows, key=lambda r: r.received_at)
        lo = self.parse(early)
        hi = lo if late is early else self.parse(late)
        sigs = [signature(ev) for ev in body.events]
        if not (len(lo) == len(hi) == len(sigs)):
            return None
        for sig, a, b in zip(sigs, lo, hi, strict=True):
            if signature(a) != sig or signature(b) != sig:
                return None
        parsed: dict[int, list[AlertEvent]] = {}

        def each(i: int) -> list[AlertEvent]:
            out = []
            for row in rows:
                if row.id not in parsed:
                    parsed[row.id] = self.parse(row)
                out.append(parsed[row.id][i])
            return out

        return [
            Repeats.span(a, b, len(rows), _each(each, i)) for i, (a, b) in enumerate(zip(lo, hi, strict=True))
        ]


def _each(each: Callable[[int], list[AlertEvent]], i: int) -> Callable[[], list[AlertEvent]]:
    return lambda: each(i)
