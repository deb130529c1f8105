"""REST: an integration's keys (rotation) and its limits with current usage.

Rotation: ``POST /integrations/{id}/keys`` adds a key while the old ones keep working; the old
one is then revoked now (``DELETE .../keys/{key_id}``) or after a grace period
(``DELETE .../keys/{key_id}?after=3600``), so senders can be moved over without a gap. Only
keys' hashes are stored; the listing shows each key's first characters to tell them apart.
Keys written in the YAML file (``key_hashes``) are rotated by editing the file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel

from koban.auth.guard import origin_of, requires
from koban.auth.permissions import Scope
from koban.db import schema as t
from koban.ingest import key_admin
from koban.ingest.limits import row_id
from koban.routing.ratelimit import windows

router = APIRouter(prefix="/api/v1/integrations", tags=["integrations"])
ADMIN = Depends(requires(Scope.ADMIN))  # keys are the door in: administrators only


class KeyInfo(BaseModel):
    id: int
    prefix: str
    created_at: float
    expires_at: float | None
    active: bool


class KeyList(BaseModel):
    integration: str
    keys: list[KeyInfo]
    # Hashes from the config file's key_hashes (not revocable here).
    config_keys: int


class Revoked(BaseModel):
    integration: str
    key_id: int
    expires_at: float


def _integration(request: Request, ident: str) -> Any:
    deps = request.app.state.deps
    integ = deps.catalog.integrations.get(ident)
    if integ is None:
        raise HTTPException(404, f"integration {ident!r} does not exist")
    return integ


@router.get(
    "/{ident}/keys",
    response_model=KeyList,
    summary="List an integration's keys (hashes stay hidden)",
    dependencies=[ADMIN],
)
async def list_keys(request: Request, ident: str) -> KeyList:
    deps = request.app.state.deps
    await deps.refresh_catalog()
    integ = _integration(request, ident)
    now = deps.clock.now()
    async with deps.db.read() as conn:
        found = await key_admin.api_keys(conn, ident)
    keys = [
        KeyInfo(
            id=k.id, prefix=k.prefix, created_at=k.created_at, expires_at=k.expires_at, active=k.active(now)
        )
        for k in found
    ]
    return KeyList(integration=ident, keys=keys, config_keys=len(integ.key_hashes))


@router.delete(
    "/{ident}/keys/{key_id}",
    dependencies=[ADMIN],
    response_model=Revoked,
    summary="Revoke a key now, or after a grace period (rotation)",
)
async def revoke_key(
    request: Request,
    ident: str,
    key_id: int = Path(ge=1, le=2**63 - 1),
    after: float = Query(0, ge=0, le=366 * 86400, description="Seconds the key keeps working"),
) -> Revoked:
    deps = request.app.state.deps
    _integration(request, ident)
    async with deps.db.begin() as conn:
        expires = await key_admin.revoke_key(conn, origin_of(request), deps.clock.now(), ident, key_id, after)
    if expires is None:
        raise HTTPException(404, f"integration {ident!r} has no key {key_id}")
    await deps.refresh_catalog(force=True)
    return Revoked(integration=ident, key_id=key_id, expires_at=expires)


@router.get(
    "/{ident}/limits",
    summary="An integration's rate limits and quota, with the counts so far",
    dependencies=[ADMIN],
)
async def get_limits(request: Request, ident: str) -> dict[str, Any]:
    deps = request.app.state.deps
    await deps.refresh_catalog()
    integ = _integration(request, ident)
    if integ.limits is None:
        return {"integration": ident, "limits": None, "usage": []}
    now = deps.clock.now()
    ws = windows(ident, integ.limits.as_limits(), datetime.fromtimestamp(now, UTC))
    usage = []
    async with deps.db.read() as conn:
        for w in ws:
            key, window = row_id(w.counter_id)
            count = (
                await conn.execute(
                    sa.select(t.counters.c.count).where(
                        t.counters.c.key == key, t.counters.c.window == window
                    )
                )
            ).scalar()
            usage.append(
                {
                    "window": key.rsplit(":", 1)[1],
                    "used": count or 0,
                    "limit": w.limit,
                    "resets_at": w.resets_at.timestamp(),
                }
            )
    return {"integration": ident, "limits": integ.limits.model_dump(), "usage": usage}
