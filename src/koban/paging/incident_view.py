"""One incident as people read it: its row, timeline, linked alerts, notifications and time to wake.

The REST API (``GET /api/v1/incidents/{id}``) and the incident page (``/incidents/{id}``) both read
it here, so the two doors always show the same incident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db import schema as t
from koban.domain.time_to_wake import TimeToWake, time_to_wake

TRIGGER_ALERTS = 20  # the first few triggers date the first failure; later ones do not move it
ALERTS_SHOWN = 200  # an incident grouping thousands of alerts still loads in one short read


@dataclass(frozen=True, slots=True)
class IncidentView:
    incident: Any  # the incidents row
    timeline: list[Any]
    alerts: list[Any]
    deliveries: list[Any]
    wake: TimeToWake


async def load_incident(conn: AsyncConnection, incident_id: int) -> IncidentView | None:
    """None when there is no such incident."""
    row = (await conn.execute(sa.select(t.incidents).where(t.incidents.c.id == incident_id))).first()
    if row is None:
        return None
    timeline = (
        await conn.execute(
            sa.select(t.timeline).where(t.timeline.c.incident_id == incident_id).order_by(t.timeline.c.id)
        )
    ).all()
    alerts = (
        await conn.execute(
            sa.select(t.alerts)
            .where(t.alerts.c.incident_id == incident_id)
            .order_by(t.alerts.c.id)
            .limit(ALERTS_SHOWN)
        )
    ).all()
    deliveries = (
        await conn.execute(
            sa.select(t.deliveries)
            .where(t.deliveries.c.incident_id == incident_id)
            .order_by(t.deliveries.c.id)
        )
    ).all()
    triggers = [{"action": a.action, "event": a.event} for a in alerts if a.action == "trigger"][
        :TRIGGER_ALERTS
    ]
    wake = time_to_wake(
        row.created_at,
        [dict(e._mapping) for e in timeline],
        triggers,
        [dict(d._mapping) for d in deliveries],
    )
    return IncidentView(row, list(timeline), list(alerts), list(deliveries), wake)
