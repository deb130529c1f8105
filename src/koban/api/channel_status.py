"""REST: which channels work, which are broken and why (and clearing the mark once fixed).

Routes built per process and mounted through ``bootstrap/mounts.py``; they are FastAPI routes, so they appear
in ``/openapi.json`` beside the configuration objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request
from starlette.routing import BaseRoute

from koban.api.access import ADMIN, READ
from koban.api.incidents import iso
from koban.auth.guard import origin_of
from koban.paging import broken_channels
from koban.paging.broken_channels import channel_states

if TYPE_CHECKING:
    from koban.catalog.deps import StoreDeps


def _public(state: dict[str, Any]) -> dict[str, Any]:
    return {**state, "broken_at": iso(state["broken_at"])}


def routes(deps: StoreDeps) -> list[BaseRoute]:
    router = APIRouter(prefix="/api/v1/channel-status", tags=["configuration"])

    @router.get("", summary="Every channel with whether it is broken and why", dependencies=[READ])
    async def list_status() -> dict[str, Any]:
        async with deps.db.read() as conn:
            return {"channels": [_public(s) for s in await channel_states(conn)]}

    @router.get("/{ident}", summary="One channel's state", responses={404: {}}, dependencies=[READ])
    async def one_status(ident: str) -> dict[str, Any]:
        async with deps.db.read() as conn:
            found = [s for s in await channel_states(conn) if s["id"] == ident]
        if not found:
            raise HTTPException(404, f"channels/{ident} does not exist")
        return _public(found[0])

    @router.delete(
        "/{ident}/broken", summary="Clear a broken mark after fixing the vendor side", dependencies=[ADMIN]
    )
    async def repair(request: Request, ident: str) -> dict[str, Any]:
        async with deps.db.begin() as conn:
            cleared = await broken_channels.repair(conn, origin_of(request), deps.clock.now(), ident)
        await deps.refresh_catalog(force=True)
        return {"id": ident, "cleared": cleared}

    return list(router.routes)
