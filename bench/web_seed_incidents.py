"""Incidents for the web bench, written in bulk: a year of them, most resolved, some open.

Each has one alert and the timeline a paged incident has (triggered, a page sent, acknowledged and
resolved when it was), so the incident list and one incident's page read what they would in use.
Rows go straight into the tables, as bench/probe_seed.py does for monitors: the ingest path would
make the set-up longer than the measurement and is measured by its own benches.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from koban.db import schema as t
from koban.db.engine import Database
from koban.triage.alerts import open_key

CHUNK = 2000
YEAR = 365 * 86400.0
SEVERITIES = ("critical", "error", "warning", "info")


def _incident(
    i: int, now: float, service: str
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    created = now - YEAR + (i * 7919.0) % YEAR  # spread over the year, not in id order
    status = "triggered" if i % 20 == 0 else "acknowledged" if i % 20 == 1 else "resolved"
    key = f"bench-{i}"
    incident = {
        "id": i + 1,
        "service_id": service,
        "incident_key": key,
        "open_key": None if status == "resolved" else open_key(service, key),
        "status": status,
        "severity": SEVERITIES[i % 4],
        "summary": f"host-{i % 500} check {i % 37} failing",
        "source": "bench",
        "labels": {"host": f"host-{i % 500}", "team": "ops"},
        "created_at": created,
        "updated_at": created + 600,
        "acknowledged_at": created + 120 if status != "triggered" else None,
        "acknowledged_by": "bench" if status != "triggered" else None,
        "resolved_at": created + 600 if status == "resolved" else None,
        "resolved_by": "bench" if status == "resolved" else None,
        "first_notified_at": created + 1,
        "policy_id": "page",
        "esc_step": 0,
    }
    alert = {
        "incident_id": i + 1,
        "service_id": service,
        "dedup_key": key,
        "action": "trigger",
        "severity": incident["severity"],
        "summary": incident["summary"],
        "event": {"summary": incident["summary"], "labels": incident["labels"]},
        "received_at": created,
    }

    def event(after: float, kind: str, actor: str | None = None, **data: Any) -> dict[str, Any]:
        return {"incident_id": i + 1, "at": created + after, "kind": kind, "actor": actor, "data": data}

    events = [
        event(0, "incident.triggered", policy="page"),
        event(1, "notification.sent", key=f"{i + 1}:0:ops:0"),
    ]
    if incident["acknowledged_at"]:
        events.append(event(120, "acknowledged", "bench"))
    if incident["resolved_at"]:
        events.append(event(600, "resolved", "bench"))
    return incident, alert, events


async def seed_incidents(db: Database, count: int, service: str, now: float | None = None) -> None:
    now = time.time() if now is None else now
    for start in range(0, count, CHUNK):
        rows = [_incident(i, now, service) for i in range(start, min(count, start + CHUNK))]
        async with db.begin() as conn:
            await conn.execute(sa.insert(t.incidents), [r[0] for r in rows])
            await conn.execute(sa.insert(t.alerts), [r[1] for r in rows])
            await conn.execute(sa.insert(t.timeline), [e for r in rows for e in r[2]])
