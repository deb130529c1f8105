"""Why an incoming trigger is muted, with the I/O ``routing/mute.py`` needs: the firing alerts that
may inhibit it (open incidents, plus those opened earlier in the same batch).

Labels seen by matchers are the alert's labels plus ``severity`` (koban's normalised level) and
``service`` when the alert does not carry them itself, so ``severity="critical"`` works for every
source, not only those that send a severity label.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from koban.catalog.routing import RoutingSnapshot
from koban.db import schema as t
from koban.db.uow import UnitOfWork
from koban.domain.alerts import AlertAction, AlertEvent
from koban.domain.escalation import Status
from koban.routing.inhibition import ActiveAlert
from koban.routing.matchers import matches_all
from koban.routing.mute import mute_reason


def matcher_labels(labels: Mapping[str, Any], severity: str, service_id: str) -> dict[str, str]:
    return {"severity": severity, "service": service_id, **{k: str(v) for k, v in labels.items()}}


class Muter:
    """One per ingest batch: loads inhibition sources once, and only if a rule could apply."""

    def __init__(self, uow: UnitOfWork, routing: RoutingSnapshot, now: float) -> None:
        self.uow, self.routing, self.now = uow, routing, now
        self._firing: list[ActiveAlert] | None = None

    def firing_added(self, key: str, labels: dict[str, str]) -> None:
        if self._firing is not None:
            self._firing.append(ActiveAlert(key, labels))

    async def reason(self, service_id: str, ev: AlertEvent, key: str) -> str | None:
        if ev.action is not AlertAction.TRIGGER:
            return None  # resolutions and acknowledgements always pass (routing/mute.py)
        r = self.routing
        if not (r.silences or r.windows or r.inhibit_rules):
            return None
        labels = matcher_labels(ev.labels, ev.severity.value, service_id)
        firing: list[ActiveAlert] = []
        if any(matches_all(rule.target_matchers, labels) for rule in r.inhibit_rules):
            firing = await self._sources()
        return mute_reason(
            action=ev.action,
            fingerprint=key,
            labels=labels,
            service_id=service_id,
            now=datetime.fromtimestamp(self.now, UTC),
            silences=r.silences,
            windows=r.windows,
            inhibit_rules=r.inhibit_rules,
            firing=firing,
        )

    async def _sources(self) -> list[ActiveAlert]:
        if self._firing is None:
            await self.uow.flush_incidents()  # incidents this batch opened are sources too
            c = t.incidents.c
            rows = await self.uow.conn.execute(
                sa.select(c.open_key, c.labels, c.severity, c.service_id).where(
                    c.open_key.is_not(None), c.status != Status.RESOLVED
                )
            )
            self._firing = [
                ActiveAlert(row.open_key, matcher_labels(row.labels or {}, row.severity, row.service_id))
                for row in rows
            ]
        return self._firing
