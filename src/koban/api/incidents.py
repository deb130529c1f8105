"""REST: incidents (list, get with timeline and deliveries, acknowledge, resolve, escalate, reassign)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from koban.api.access import READ, acting, incident_team, need, visible_services
from koban.api.deps import deps_of
from koban.auth.guard import origin_of
from koban.auth.permissions import Scope
from koban.channels.actions import IncidentAction
from koban.db import schema as t
from koban.domain.escalation import Status
from koban.domain.time_to_wake import as_json
from koban.paging.actions import NotFound
from koban.paging.incident_view import load_incident

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
RESPOND = need(Scope.RESPOND, incident_team)

# Ids are 64-bit in both databases; a larger number is a 422, not a driver overflow (a 500).
IncidentId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def iso(v: float | None) -> str | None:
    return datetime.fromtimestamp(v, UTC).isoformat() if v else None


class ActionBody(BaseModel):
    actor: str | None = Field(
        None,
        description="Who the timeline shows acting: the caller, unless an administrator names another.",
    )
    note: str | None = Field(None, max_length=2000)
    # strict: JSON's false is not step 0 (the document says integer, and so does the answer)
    seen_step: int | None = Field(
        None,
        ge=0,
        le=10_000,
        strict=True,
        description="Escalate only if the incident is still at this step (0-based).",
    )
    seen_loop: int = Field(0, ge=0, le=10_000, strict=True)


class ReassignBody(ActionBody):
    person: str = Field(..., description="Person id the incident is handed to; paged at once.")


class ActionOut(BaseModel):
    ok: bool
    status: str
    message: str


def incident_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "service": r.service_id,
        "key": r.incident_key,
        "status": r.status,
        "severity": r.severity,
        "summary": r.summary,
        "source": r.source,
        "labels": r.labels,
        "details": r.details,
        "links": r.links,
        "alert_count": r.alert_count,
        "created_at": iso(r.created_at),
        "updated_at": iso(r.updated_at),
        "acknowledged_at": iso(r.acknowledged_at),
        "acknowledged_by": r.acknowledged_by,
        "acknowledged_via": r.acknowledged_via,
        "resolved_at": iso(r.resolved_at),
        "resolved_by": r.resolved_by,
        "first_notified_at": iso(r.first_notified_at),
        "policy": r.policy_id,
        "escalation": {"step": r.esc_step, "loop": r.esc_loop, "exhausted": bool(r.esc_exhausted)},
    }


@router.get("", summary="List incidents, newest first", dependencies=[READ])
async def list_incidents(
    request: Request,
    status: Literal["triggered", "acknowledged", "resolved", "open"] | None = None,
    service: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    before: int | None = Query(
        None, ge=1, le=2**63 - 1, description="Only incidents with a smaller id (paging)."
    ),
) -> dict[str, Any]:
    deps = deps_of(request)
    c = t.incidents.c
    q = sa.select(t.incidents).order_by(c.id.desc()).limit(limit)
    if status == "open":
        q = q.where(c.status != Status.RESOLVED)
    elif status:
        q = q.where(c.status == status)
    if service:
        q = q.where(c.service_id == service)
    if before:
        q = q.where(c.id < before)
    shown = await visible_services(request)
    if shown is not None:  # a team member sees their teams' incidents
        q = q.where(c.service_id.in_(shown))
    async with deps.db.read() as conn:
        rows = (await conn.execute(q)).all()
    return {"incidents": [incident_json(r) for r in rows]}


@router.get(
    "/{incident_id}",
    summary="One incident with its timeline, alerts, notifications and time to wake",
    dependencies=[need(Scope.READ, incident_team)],
)
async def get_incident(request: Request, incident_id: IncidentId) -> dict[str, Any]:
    deps = deps_of(request)
    async with deps.db.read() as conn:
        found = await load_incident(conn, incident_id)
    if found is None:
        raise HTTPException(404, f"incident {incident_id} does not exist")
    r, tl, dl = found.incident, found.timeline, found.deliveries
    out = incident_json(r)
    out["time_to_wake"] = as_json(found.wake, iso)
    out["plan"] = r.plan
    out["timeline"] = [
        {"at": iso(e.at), "kind": e.kind, "actor": e.actor, "via": e.via, "data": e.data} for e in tl
    ]
    out["notifications"] = [
        {
            "key": d.key,
            "kind": d.kind,
            "channel": d.channel_id,
            "type": d.channel_type,
            "person": d.person_id,
            "step": d.step,
            "loop": d.loop,
            "state": d.state,
            "attempts": d.attempts,
            "error": d.error,
            "sent_at": iso(d.sent_at),
            "provider_ref": d.provider_ref,
        }
        for d in dl
    ]
    return out


async def _act(
    request: Request, incident_id: IncidentId, action: IncidentAction, body: ActionBody | None
) -> ActionOut:
    deps = deps_of(request)
    body = body or ActionBody()
    try:
        res = await deps.actions.act(
            incident_id,
            action,
            actor=acting(request, body.actor),
            via="api",
            note=body.note,
            seen=(body.seen_step, body.seen_loop) if body.seen_step is not None else None,
            origin=origin_of(request),
        )
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    if not res.ok:
        raise HTTPException(409, res.message)
    return ActionOut(ok=res.ok, status=res.status, message=res.message)


@router.post(
    "/{incident_id}/acknowledge",
    response_model=ActionOut,
    responses={404: {}, 409: {}},
    dependencies=[RESPOND],
)
async def acknowledge(request: Request, incident_id: IncidentId, body: ActionBody | None = None) -> ActionOut:
    return await _act(request, incident_id, IncidentAction.ACKNOWLEDGE, body)


@router.post(
    "/{incident_id}/resolve", response_model=ActionOut, responses={404: {}, 409: {}}, dependencies=[RESPOND]
)
async def resolve(request: Request, incident_id: IncidentId, body: ActionBody | None = None) -> ActionOut:
    return await _act(request, incident_id, IncidentAction.RESOLVE, body)


@router.post(
    "/{incident_id}/escalate",
    response_model=ActionOut,
    responses={404: {}, 409: {}},
    summary="Escalate now: move to the next step without waiting",
    dependencies=[RESPOND],
)
async def escalate(request: Request, incident_id: IncidentId, body: ActionBody | None = None) -> ActionOut:
    return await _act(request, incident_id, IncidentAction.ESCALATE, body)


@router.post(
    "/{incident_id}/reassign",
    response_model=ActionOut,
    responses={404: {}, 409: {}},
    summary="Reassign to a person: page them now; escalation resumes if they do not acknowledge",
    dependencies=[RESPOND],
)
async def reassign(request: Request, incident_id: IncidentId, body: ReassignBody) -> ActionOut:
    deps = deps_of(request)
    try:
        res = await deps.actions.reassign(
            incident_id,
            body.person,
            actor=acting(request, body.actor),
            via="api",
            note=body.note,
            origin=origin_of(request),
        )
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    if not res.ok:
        raise HTTPException(409, res.message)
    return ActionOut(ok=res.ok, status=res.status, message=res.message)
