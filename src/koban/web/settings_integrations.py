"""``/settings/integrations``: each service's integrations (what sends alerts) with their keys, for
administrators (keys are the door in, as on the REST API).

Keys written in the YAML file (``key_hashes``) are config as code: counted, read-only, with a note.
Keys made here are the REST API's (``ingest/key_admin.py``, the functions its routes call): the
text is on the answer to the form that made it, once; koban keeps only its hash.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from koban.auth.permissions import Scope
from koban.ingest.key_admin import api_keys, create_key, revoke_key
from koban.web.deps import deps_of
from koban.web.guard import PageRefused, page_needs
from koban.web.incidents_list import origin_of
from koban.web.render import render, viewer_of

router = APIRouter(include_in_schema=False)
ADMIN = page_needs(Scope.ADMIN)
MAX_ID = 200
GRACE = {"0": 0, "3600": 3600, "86400": 86400}  # revoke now, in an hour, in a day (rotation)


async def _show(request: Request, new_key: tuple[str, str] | None = None) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    catalog = deps.catalog
    now = deps.clock.now()
    rows: list[dict[str, Any]] = []
    async with deps.db.read() as conn:
        for ident in sorted(catalog.integrations):
            integ = catalog.integrations[ident]
            rows.append(
                {
                    "integ": integ,
                    "service": catalog.integration_service.get(ident, ""),
                    "yaml_keys": len(integ.key_hashes),
                    "keys": [(k, k.active(now)) for k in await api_keys(conn, ident)],
                }
            )
    return render(
        await viewer_of(request), "settings_integrations.html", nav="settings", rows=rows, new_key=new_key
    )


def _integration(request: Request, ident: str) -> str:
    if ident not in deps_of(request).catalog.integrations:
        raise PageRefused(404, f"integration {ident[:MAX_ID]!r} does not exist")
    return ident


@router.get("/settings/integrations", dependencies=[ADMIN])
async def integrations_page(request: Request) -> Response:
    return await _show(request)


@router.post("/settings/integrations/{ident}/keys", dependencies=[ADMIN])
async def new_key(request: Request, ident: str) -> Response:
    """The key is on this answer only (not a redirect): no later page can show it."""
    deps = deps_of(request)
    await deps.refresh_catalog()
    _integration(request, ident)
    async with deps.db.begin() as conn:
        key = await create_key(conn, origin_of(request), deps.clock.now(), ident)
    await deps.refresh_catalog(force=True)
    return await _show(request, new_key=(ident, key))


@router.post("/settings/integrations/{ident}/keys/{key_id}/revoke", dependencies=[ADMIN])
async def revoke(request: Request, ident: str, key_id: int) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    _integration(request, ident)
    form = await request.form(max_fields=10)
    after = GRACE.get(str(form.get("after", "0")), 0)
    if not 1 <= key_id <= 2**63 - 1:
        raise PageRefused(404, f"integration {ident!r} has no key {key_id}")
    async with deps.db.begin() as conn:
        done = await revoke_key(conn, origin_of(request), deps.clock.now(), ident, key_id, after)
    if done is None:
        raise PageRefused(404, f"integration {ident!r} has no key {key_id}")
    await deps.refresh_catalog(force=True)
    return RedirectResponse(f"/settings/integrations#i-{quote(ident, safe='')}", status_code=303)
