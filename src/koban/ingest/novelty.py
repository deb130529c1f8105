"""Which deliveries hold an alert the edge has not seen lately: the drain claims those first.

Prometheus re-sends every firing alert once per evaluation, so in a flood nearly every delivery is a
repeat of an alert that already has its incident. A new outage's alert must not wait behind them
(issue 18: paged within 250 ms of its 2xx while the flood runs). The edge remembers the alerts it
accepted recently and marks a delivery ``fresh`` when it holds one it does not remember; the drain
(``ingest/drain.py``) claims fresh rows before older ones.

Only for sources whose every event carries its own time (Prometheus: ``startsAt``, else the
receipt): the key clocks (``domain/incident_rules.py``) are maxima of those times, so the incident
a key ends with does not depend on the order its deliveries are processed in, and taking a row
ahead of older ones is safe. Sources ordered by arrival (PagerDuty, Zabbix, Kibana) keep FIFO.

The memory is a hint per process, never a source of truth: a forgotten alert only makes a
delivery fresh once more (claimed early, harmlessly); a remembered one only keeps FIFO order.
Cost at the edge: one hash of the body per request; the labels of each alert only for a body not
seen before (Prometheus sends the same bytes for an unchanged rule between evaluations when
it sends ``startsAt`` and ``endsAt`` as they were).
"""

from __future__ import annotations

from typing import Any

FRESH_KINDS = frozenset({"prometheus"})
# Entries remembered before the memory starts over (each ~100 bytes: ~20 MB at most). Starting
# over marks the next deliveries fresh until the memory fills again: only a brief loss of priority.
MAX_REMEMBERED = 200_000


class RecentAlerts:
    """Per process: the bodies and alert label sets accepted lately."""

    def __init__(self, limit: int = MAX_REMEMBERED) -> None:
        self.limit = limit
        self.bodies: set[int] = set()
        self.alerts: set[frozenset[tuple[str, Any]]] = set()

    def fresh(self, kind: str, body: bytes, data: Any) -> bool:
        """Whether this accepted delivery (``data``: its JSON, checked by the source) holds an alert
        not seen lately; remembers its alerts either way."""
        if kind not in FRESH_KINDS or type(data) is not list:
            return False
        digest = hash(body)
        if digest in self.bodies:
            return False
        if len(self.bodies) + len(self.alerts) >= self.limit:
            self.bodies.clear()
            self.alerts.clear()
        self.bodies.add(digest)
        new = False
        alerts = self.alerts
        for alert in data:
            labels = alert.get("labels") if type(alert) is dict else None
            if type(labels) is not dict:
                continue
            key = frozenset(labels.items())
            if key not in alerts:
                alerts.add(key)
                new = True
        return new
