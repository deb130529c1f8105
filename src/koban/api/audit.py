"""REST: the audit trail, newest first, filtered by person, object and time (read-only: no route
writes or deletes an entry)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request

from koban.api.access import ADMIN
from koban.api.deps import deps_of
from koban.auth.audit import Filter, query

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


@router.get("", summary="Who changed what, when, from where and through which door", dependencies=[ADMIN])
async def list_audit(
    request: Request,
    person: str | None = Query(None, description="Only this person's changes."),
    kind: str | None = Query(None, description="Only changes to this kind of object (policies, incident…)."),
    ident: str | None = Query(None, alias="id", description="Only changes to this object (with kind)."),
    since: datetime | None = Query(None, description="ISO 8601; inclusive."),
    until: datetime | None = Query(None, description="ISO 8601; exclusive."),
    limit: int = Query(100, ge=1, le=1000),
    before: int | None = Query(
        None,
        ge=1,
        le=2**63 - 1,
        description="Paging: the entries after this one (newest first by time, then id).",
    ),
) -> dict[str, Any]:
    deps = deps_of(request)
    f = Filter(
        actor=person,
        object_kind=kind,
        object_id=ident,
        since=since.timestamp() if since else None,
        until=until.timestamp() if until else None,
        limit=limit,
        before_id=before,
    )
    async with deps.db.read() as conn:
        entries = await query(conn, f)
    return {
        "entries": [
            {
                "id": e.id,
                "at": _iso(e.at),
                "person": e.origin.actor,
                "via": e.origin.via.value,
                "ip": e.origin.ip,
                "user_agent": e.origin.user_agent,
                "token_id": e.origin.token_id,
                "action": e.change.action,
                "object": {"kind": e.change.object_kind, "id": e.change.object_id},
                "before": e.change.before,
                "after": e.change.after,
            }
            for e in entries
        ]
    }
