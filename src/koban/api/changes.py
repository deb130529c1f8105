"""REST: a service's recent changes (PagerDuty change events): what responders look at first
next to an incident."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Request

from koban.api.access import need, object_team
from koban.api.deps import deps_of
from koban.auth.permissions import Scope
from koban.db.schema_changes import change_events

router = APIRouter(prefix="/api/v1", tags=["services"])


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


@router.get(
    "/services/{ident}/changes",
    summary="A service's recent change events, newest first",
    dependencies=[need(Scope.READ, object_team("services"))],
)
async def service_changes(
    request: Request, ident: str, limit: int = Query(50, ge=1, le=500)
) -> dict[str, Any]:
    deps = deps_of(request)
    await deps.refresh_catalog()
    if ident not in deps.catalog.services:
        raise HTTPException(404, f"service {ident!r} does not exist")
    c = change_events.c
    q = sa.select(change_events).where(c.service_id == ident).order_by(c.at.desc(), c.id.desc()).limit(limit)
    async with deps.db.read() as conn:
        rows = (await conn.execute(q)).all()
    return {
        "changes": [
            {
                "id": r.id,
                "at": _iso(r.at),
                "received_at": _iso(r.received_at),
                "summary": r.summary,
                "source": r.source,
                "integration": r.integration_id,
                "custom_details": r.custom_details,
                "links": r.links,
            }
            for r in rows
        ]
    }
