"""Repeats of one alert collapsed before per-alert work (issue 18: a flood must not cost per re-send).

Prometheus re-sends every firing alert once per evaluation, PagerDuty senders retry with the same
``dedup_key``, an Alertmanager re-notifies its groups: in a flood nearly every event is a copy of
one already applied, identical apart from its times. ``Repeats`` stands for such copies that follow
an event: ``process_service_alerts`` applies the event, then asks the pure
``domain.incident_rules.decide_repeats`` what all the copies do together. When they only move the
key's clock and the count (or are all ignored alike), that is one update, one ``alerts`` row with
``repeats`` set, one timeline note; else each copy is applied alone (``each``), as without collapse.

Copies are gathered out of their arrival order, ahead of the events between them, so only where that
cannot change an outcome (``collapsible``): no event in between touches the same alert or incident
(``collapse`` starts a new run then), the alert goes straight to its incident (not through an
aggregation group, where the order of members counts), and no inhibition rule names it as source
or target (whether it is muted, or mutes others, could depend on the events in between). Silences
and maintenance windows depend only on the batch's ``now``, the same for every copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from koban.catalog.snapshot import Catalog
from koban.domain.alerts import AlertEvent
from koban.domain.incident_rules import own_time
from koban.routing.matchers import matches_all
from koban.triage import grouping
from koban.triage.muting import matcher_labels

_NEWEST = float("inf")  # no own time: ordered by arrival, so newer than any time


def _time(ev: AlertEvent) -> float:
    at = own_time(ev)
    return _NEWEST if at is None else at


@dataclass(frozen=True, slots=True)
class Repeats:
    """``count`` copies of an alert, applied after it: those with the earliest and the latest own
    time, and ``each`` to list them all in arrival order (only called when they must be applied
    one at a time: it may parse their deliveries again)."""

    earliest: AlertEvent
    latest: AlertEvent
    count: int
    each: Callable[[], list[AlertEvent]]

    @staticmethod
    def of(ev: AlertEvent) -> Repeats:
        return Repeats(ev, ev, 1, lambda: [ev])

    @staticmethod
    def span(a: AlertEvent, b: AlertEvent, count: int, each: Callable[[], list[AlertEvent]]) -> Repeats:
        """``count`` copies whose times lie between those of ``a`` and ``b``."""
        return Repeats(min(a, b, key=_time), max(a, b, key=_time), count, each)

    def join(self, more: Repeats) -> Repeats:
        first, then = self.each, more.each
        return Repeats(
            min(self.earliest, more.earliest, key=_time),
            max(self.latest, more.latest, key=_time),
            self.count + more.count,
            lambda: first() + then(),
        )


def signature(ev: AlertEvent) -> tuple[Any, ...]:
    """What copies share: everything the rules read but the times. ``details`` are left out: only
    the event that opens an incident gives it its details, and a repeat's are not read."""
    return (ev.dedup_key, ev.group_key, ev.action, ev.severity, ev.summary, ev.source, ev.labels, ev.links)


def collapsible(catalog: Catalog, service_id: str, ev: AlertEvent) -> bool:
    """Whether copies of ``ev`` may be gathered ahead of the events between them (module doc)."""
    service = catalog.services[service_id]
    if grouping.applies(service, ev):
        return False
    rules = catalog.routing.inhibit_rules
    if not rules:
        return True
    labels = matcher_labels(ev.labels, ev.severity.value, service_id)
    return not any(
        matches_all(rule.target_matchers, labels) or matches_all(rule.source_matchers, labels)
        for rule in rules
    )


def collapse(
    catalog: Catalog, service_id: str, events: list[AlertEvent], repeats: Mapping[int, Repeats] | None = None
) -> tuple[list[AlertEvent], dict[int, Repeats]]:
    """``events`` (with the copies already gathered after some of them, ``repeats``: index -> copies)
    with each later copy of an earlier event moved into that event's ``Repeats``. A copy joins the
    latest event of its alert and incident when nothing else touched either since."""
    out: list[AlertEvent] = []
    reps: dict[int, Repeats] = {}
    sigs: list[tuple[Any, ...]] = []
    allowed: dict[int, bool] = {}
    by_incident: dict[str, int] = {}
    by_alert: dict[str, int] = {}
    for i, ev in enumerate(events):
        rest = repeats.get(i) if repeats else None
        sig = signature(ev)
        j = by_incident.get(ev.incident_key)
        if j is not None and by_alert.get(ev.dedup_key) == j and sigs[j] == sig:
            if j not in allowed:  # asked only of an event with a copy: routes are not free
                allowed[j] = collapsible(catalog, service_id, out[j])
            if allowed[j]:
                more = Repeats.of(ev) if rest is None else Repeats.of(ev).join(rest)
                reps[j] = reps[j].join(more) if j in reps else more
                continue
        k = len(out)
        out.append(ev)
        sigs.append(sig)
        if rest is not None:
            reps[k] = rest
        by_incident[ev.incident_key] = by_alert[ev.dedup_key] = k
    return out, reps
