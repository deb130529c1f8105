"""REST: API tokens. An administrator manages anyone's; a person lists, creates and revokes their own
(a token never does more than its owner may, so making one grants nothing new)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field

from koban.api.access import READ
from koban.api.deps import deps_of
from koban.auth import token_admin
from koban.auth.guard import ensure, origin_of
from koban.auth.permissions import Need, Scope, decide
from koban.auth.store import list_tokens

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


class NewToken(BaseModel):
    name: str = Field(..., min_length=1, max_length=200)
    scope: Literal["read", "respond", "manage", "admin"] = "read"
    team: str | None = Field(None, description="Limit the token to this team's objects.")
    expires_in: float | None = Field(
        None, gt=0, le=token_admin.MAX_LIFETIME, description="Seconds until it stops working."
    )
    person: str | None = Field(None, description="Owner; only an administrator may name another person.")
    service: bool = Field(False, description="A token for a program rather than a person.")


def _owner(request: Request, named: str | None) -> str:
    me: str = request.state.principal.person_id
    if named and named != me:
        ensure(request, Need(Scope.ADMIN))
        return named
    return me


def _shown(t: Any) -> dict[str, Any]:
    return {
        "id": t.id,
        "shown": t.shown,
        "person": t.person_id,
        "name": t.name,
        "kind": t.kind,
        "scope": t.scope.name.lower(),
        "team": t.team_id,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "last_used_at": t.last_used_at,
        "revoked_at": t.revoked_at,
    }


@router.get("", summary="Tokens: yours, or everyone's for an administrator", dependencies=[READ])
async def list_(request: Request) -> dict[str, Any]:
    deps, who = deps_of(request), request.state.principal
    admin = decide(who, Need(Scope.ADMIN)).allowed
    async with deps.db.read() as conn:
        found = await list_tokens(conn, None if admin else who.person_id)
    return {"tokens": [_shown(t) for t in found]}


@router.post(
    "", status_code=201, summary="Create a token; its text is shown in this answer only", dependencies=[READ]
)
async def create(request: Request, body: NewToken) -> dict[str, Any]:
    deps = deps_of(request)
    owner = _owner(request, body.person)
    new = token_admin.TokenRequest(
        owner, body.name, Scope.parse(body.scope), body.team, body.expires_in, body.service
    )
    async with deps.db.begin() as conn:
        issued = await token_admin.issue_token(conn, origin_of(request), deps.clock.now(), new)
    return {"id": issued.id, "token": issued.text, "note": "shown once: koban keeps only its digest"}


@router.delete(
    "/{token_id}", summary="Revoke a token: every instance refuses it within a second", dependencies=[READ]
)
async def revoke(request: Request, token_id: int = Path(..., ge=1, le=2**31 - 1)) -> dict[str, Any]:
    deps = deps_of(request)
    async with deps.db.begin() as conn:
        who, origin = request.state.principal, origin_of(request)
        done = await token_admin.revoke(conn, who, origin, deps.clock.now(), token_id)
    if not done:  # someone else's (administrators only) is answered as absent
        raise HTTPException(404, f"no active token {token_id}")
    return {"revoked": token_id}
