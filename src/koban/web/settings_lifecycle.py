"""Adding and deleting teams and channels from the settings pages, for administrators (the REST
API's rule for these kinds); editing them is ``settings_edit.py``'s.

Both go through the editing capability's ``save_object``, as the REST ``PUT`` and ``DELETE`` do:
the config model and its cross-references judge the change, the audit trail records it with the
door "ui", the catalog follows. A delete is asked for on its own page (a form POST with the CSRF
token, never a link that acts); one refused because other objects still name the team or channel
(a policy's step, a person's ``notify``, a service's ``team``...) answers 409 naming them, and
nothing is deleted. What config as code manages is refused (409), inside the writing transaction.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from koban.channels.registry import known_types
from koban.editing.objects import Invalid, Managed, save_object
from koban.web import settings_forms as forms
from koban.web.deps import deps_of
from koban.web.i18n import N_
from koban.web.incidents_list import origin_of
from koban.web.render import render, viewer_of
from koban.web.settings_edit import ADMIN, existing, read_form, save, show
from koban.web.settings_pages import managed

router = APIRouter(include_in_schema=False)
TAKEN = N_("That id is taken.")


async def _create(request: Request, kind: str, read: Any, *, echo: bool, max_fields: int = 100) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    form = await read_form(request, max_fields=max_fields)
    shown = form if echo else {}
    ident = form.get("id", "").strip()
    if ident in getattr(deps.catalog, kind):
        return await show(request, kind, None, new=True, error=TAKEN, status=422, form=shown)
    model = read(form, ident)
    if isinstance(model, str):
        return await show(request, kind, None, new=True, error=model, status=422, form=shown)
    return await save(request, kind, model, ident, None, shown)


@router.get("/settings/teams/new", dependencies=[ADMIN])
async def new_team_page(request: Request) -> Response:
    await deps_of(request).refresh_catalog()
    return await show(request, "teams", None, new=True)


@router.post("/settings/teams", dependencies=[ADMIN])
async def create_team(request: Request) -> Response:
    people = set(deps_of(request).catalog.people)
    return await _create(
        request,
        "teams",
        lambda form, ident: forms.read_new_team(form, ident, people),
        echo=True,
        max_fields=len(people) + 10,
    )


@router.get("/settings/channels/new", dependencies=[ADMIN])
async def new_channel_page(request: Request) -> Response:
    await deps_of(request).refresh_catalog()
    return await show(request, "channels", None, new=True)


@router.post("/settings/channels", dependencies=[ADMIN])
async def create_channel(request: Request) -> Response:
    # The settings may hold secrets: a refused form is never echoed back into the page.
    types = known_types()
    return await _create(
        request, "channels", lambda form, ident: forms.read_new_channel(form, ident, types), echo=False
    )


async def _confirm(
    request: Request, kind: str, ident: str, *, status: int = 200, error: str = "", holders: Any = ()
) -> Response:
    """The page that asks before a delete; read-only with the note when the YAML manages it."""
    await deps_of(request).refresh_catalog()
    obj = existing(request, kind, ident)
    is_managed = ident in await managed(request, kind, [ident])
    return render(
        await viewer_of(request),
        "settings_delete.html",
        status,
        nav="settings",
        kind=kind,
        obj=obj,
        managed=is_managed,
        error=error,
        holders=list(holders),
    )


async def _delete(request: Request, kind: str, ident: str) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    existing(request, kind, ident)  # 404 before anything else
    managed_text = N_(
        "This object is managed by config as code: change it in the YAML file and run koban config apply."
    )
    # Said first when the YAML manages it (its references would be the file's to change too);
    # save_object decides it again inside the writing transaction.
    if ident in await managed(request, kind, [ident]):
        return await _confirm(request, kind, ident, status=409, error=managed_text)
    try:
        await save_object(deps, origin_of(request), kind, None, ident, refuse_managed=True)
    except Invalid as exc:
        text = N_("Other objects still name it: change or delete them first. Nothing was deleted.")
        return await _confirm(request, kind, ident, status=409, error=text, holders=exc.holders)
    except Managed:
        return await _confirm(request, kind, ident, status=409, error=managed_text)
    return RedirectResponse(f"/settings/{kind}?deleted={quote(ident, safe='')}", status_code=303)


@router.get("/settings/teams/{ident}/delete", dependencies=[ADMIN])
async def confirm_team_delete(request: Request, ident: str) -> Response:
    return await _confirm(request, "teams", ident)


@router.post("/settings/teams/{ident}/delete", dependencies=[ADMIN])
async def delete_team(request: Request, ident: str) -> Response:
    return await _delete(request, "teams", ident)


@router.get("/settings/channels/{ident}/delete", dependencies=[ADMIN])
async def confirm_channel_delete(request: Request, ident: str) -> Response:
    return await _confirm(request, "channels", ident)


@router.post("/settings/channels/{ident}/delete", dependencies=[ADMIN])
async def delete_channel(request: Request, ident: str) -> Response:
    return await _delete(request, "channels", ident)
