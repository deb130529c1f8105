"""REST: an incident's public updates (what the public status pages show of it; docs/web.md).

Posting one needs the responder role in the incident's team, as acknowledging does; it is audited
and lands on the incident's timeline (``paging/public_updates.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field

from koban.api.access import incident_team, need
from koban.api.deps import deps_of
from koban.auth.guard import origin_of
from koban.auth.permissions import Scope
from koban.paging.public_updates import (
    MAX_MESSAGE,
    NoIncident,
    PublicStatus,
    PublicUpdate,
    add_update,
    exists,
    updates_of,
)
from koban.reports.stats import iso

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
IncidentId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class PublicUpdateBody(BaseModel):
    status: PublicStatus = Field(..., description="Where the incident stands, as the public reads it.")
    message: str = Field(
        ..., min_length=1, max_length=MAX_MESSAGE, description="Shown as written on the status pages."
    )


def _json(u: PublicUpdate) -> dict[str, Any]:
    return {
        "id": u.id,
        "incident": u.incident_id,
        "status": u.status,
        "message": u.message,
        "at": iso(u.created_at),
        "by": u.created_by,
    }


@router.get(
    "/{incident_id}/public_updates",
    responses={404: {}},
    summary="An incident's public updates, newest first",
    dependencies=[need(Scope.READ, incident_team)],
)
async def list_public_updates(request: Request, incident_id: IncidentId) -> dict[str, Any]:
    async with deps_of(request).db.read() as conn:
        if not await exists(conn, incident_id):
            raise HTTPException(404, f"incident {incident_id} does not exist")
        found = await updates_of(conn, [incident_id])
    return {"public_updates": [_json(u) for u in found.get(incident_id, [])]}


@router.post(
    "/{incident_id}/public_updates",
    status_code=201,
    responses={404: {}},
    summary="Post a public update: shown on every status page that lists the incident's service",
    dependencies=[need(Scope.RESPOND, incident_team)],
)
async def post_public_update(
    request: Request, incident_id: IncidentId, body: PublicUpdateBody
) -> dict[str, Any]:
    deps = deps_of(request)
    if not body.message.strip():
        raise HTTPException(422, "write a message for the public")
    try:
        made = await add_update(
            deps.db, incident_id, body.status, body.message, origin_of(request), deps.clock.now()
        )
    except NoIncident as exc:
        raise HTTPException(404, str(exc)) from None
    return _json(made)
