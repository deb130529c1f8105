"""Editing people, teams' members and channels from the settings pages, for administrators (the
REST API's rule for these kinds).

A form is read into the config object (``settings_forms.py``) and written by the editing
capability's ``save_object``, the function the REST routes call: the same validation (the model and
its cross-references), the same audit entry (door "ui"), the same catalog refresh. An object config
as code manages is shown read-only with a note, and a forged form for it is refused inside the
writing transaction (``Managed``, 409). Bad input is shown in words with a 422, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import RedirectResponse, Response

from koban.auth.permissions import Scope
from koban.channels.registry import known_types
from koban.editing.objects import Invalid, Managed, save_object
from koban.editing.redact import MARKER
from koban.web import settings_forms as forms
from koban.web.deps import deps_of
from koban.web.guard import PageRefused, page_needs
from koban.web.i18n import N_
from koban.web.incidents_list import origin_of
from koban.web.render import render, viewer_of
from koban.web.settings_logins import change_login, login_of, read_login
from koban.web.settings_pages import managed

router = APIRouter(include_in_schema=False)
ADMIN = page_needs(Scope.ADMIN)
MAX_ID = 200
PAGES = {
    "people": "settings_person_edit.html",
    "teams": "settings_team_edit.html",
    "channels": "settings_channel_edit.html",
}


async def read_form(request: Request, max_fields: int = 100) -> dict[str, str]:
    """The posted fields as text, each cut to a field's bound; repeated names joined by lines."""
    raw = await request.form(max_fields=max_fields)
    out: dict[str, str] = {}
    for key in raw:
        out[key[:MAX_ID]] = "\n".join(str(v)[: forms.MAX_FIELD] for v in raw.getlist(key))
    return out


def existing(request: Request, kind: str, ident: str) -> Any:
    obj = getattr(deps_of(request).catalog, kind).get(ident)
    if obj is None:
        raise PageRefused(404, f"{kind}/{ident[:MAX_ID]} does not exist")
    return obj


async def show(
    request: Request,
    kind: str,
    obj: Any,
    *,
    new: bool = False,
    error: str = "",
    problems: list[str] | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    """One object's edit page: its form, or read-only with the note when the YAML manages it."""
    deps = deps_of(request)
    ident = obj.id if obj is not None else ""
    is_managed = bool(ident) and not new and ident in await managed(request, kind, [ident])
    context: dict[str, Any] = {}
    if kind == "people":
        context.update(zones=forms.zones(), languages=forms.LANGUAGES, channels=sorted(deps.catalog.channels))
        context["login"] = await login_of(request, ident) if ident and not new else None
        context["roles"] = forms.ROLES
    elif kind == "teams":
        context.update(people=sorted(deps.catalog.people), roles=forms.ROLES)
        context["roles_of"] = {m.person: m.role for m in obj.members} if obj is not None else {}
    else:
        context.update(fields=forms.channel_fields(obj) if obj is not None else [], marker=MARKER)
        context["types"] = known_types()
    return render(
        await viewer_of(request),
        PAGES[kind],
        status,
        nav="settings",
        obj=obj,
        new=new,
        managed=is_managed,
        error=error,
        problems=problems or [],
        form=form or {},
        **context,
    )


async def save(
    request: Request, kind: str, obj: BaseModel, ident: str, old: Any, form: dict[str, str]
) -> Response:
    """Write through the editing capability; its refusals as this page with words."""
    try:
        await save_object(deps_of(request), origin_of(request), kind, obj, ident, refuse_managed=True)
    except Invalid as exc:
        problems = [f"{'.'.join(str(p) for p in loc)}: {msg}" for loc, msg in exc.problems]
        text = N_("The configuration does not accept this change:")
        return await show(
            request, kind, old or obj, new=old is None, error=text, problems=problems, status=422, form=form
        )
    except Managed:
        text = N_(
            "This object is managed by config as code: change it in the YAML file and run koban config apply."
        )
        return await show(request, kind, old, error=text, status=409)
    anchor = {"people": "p", "teams": "t", "channels": "c"}[kind]
    shown = quote(ident, safe="")
    return RedirectResponse(f"/settings/{kind}?saved={shown}#{anchor}-{shown}", status_code=303)


@router.get("/settings/people/new", dependencies=[ADMIN])
async def new_person_page(request: Request) -> Response:
    await deps_of(request).refresh_catalog()
    return await show(request, "people", None, new=True)


@router.post("/settings/people", dependencies=[ADMIN])
async def create_person(request: Request) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    form = await read_form(request)
    ident = form.get("id", "").strip()
    if ident in deps.catalog.people:
        return await show(
            request, "people", None, new=True, error=N_("That id is taken."), status=422, form=form
        )
    person = forms.read_person(form, ident)
    if isinstance(person, str):
        return await show(request, "people", None, new=True, error=person, status=422, form=form)
    return await save(request, "people", person, ident, None, form)


@router.get("/settings/people/{ident}/edit", dependencies=[ADMIN])
async def person_page(request: Request, ident: str) -> Response:
    await deps_of(request).refresh_catalog()
    return await show(request, "people", existing(request, "people", ident))


@router.post("/settings/people/{ident}", dependencies=[ADMIN])
async def update_person(request: Request, ident: str) -> Response:
    return await _update(request, "people", ident, lambda form, _old, _deps: forms.read_person(form, ident))


@router.get("/settings/teams/{ident}/edit", dependencies=[ADMIN])
async def team_page(request: Request, ident: str) -> Response:
    await deps_of(request).refresh_catalog()
    return await show(request, "teams", existing(request, "teams", ident))


@router.post("/settings/teams/{ident}", dependencies=[ADMIN])
async def update_team(request: Request, ident: str) -> Response:
    return await _update(
        request,
        "teams",
        ident,
        lambda form, old, deps: forms.read_team(form, old, set(deps.catalog.people)),
        max_fields=len(deps_of(request).catalog.people) + 10,
    )


@router.get("/settings/channels/{ident}/edit", dependencies=[ADMIN])
async def channel_page(request: Request, ident: str) -> Response:
    await deps_of(request).refresh_catalog()
    return await show(request, "channels", existing(request, "channels", ident))


@router.post("/settings/channels/{ident}", dependencies=[ADMIN])
async def update_channel(request: Request, ident: str) -> Response:
    # A channel's form holds its secrets: never echoed back into the page.
    return await _update(
        request, "channels", ident, lambda form, old, _deps: forms.read_channel(form, old), echo=False
    )


async def _update(
    request: Request,
    kind: str,
    ident: str,
    read: Callable[[dict[str, str], Any, Any], Any],
    *,
    max_fields: int = 100,
    echo: bool = True,
) -> Response:
    """An edit of an existing object: read the form into a model (or the words of its problem, 422),
    then save it through the REST API's path."""
    deps = deps_of(request)
    await deps.refresh_catalog()
    old = existing(request, kind, ident)
    form = await read_form(request, max_fields=max_fields)
    model = read(form, old, deps)
    if isinstance(model, str):
        return await show(request, kind, old, error=model, status=422, form=form if echo else None)
    return await save(request, kind, model, ident, old, form if echo else {})


@router.post("/settings/people/{ident}/login", dependencies=[ADMIN])
async def update_login(request: Request, ident: str) -> Response:
    """A person's login: role everywhere, disabled (``settings_logins.py``); YAML or not."""
    await deps_of(request).refresh_catalog()
    person = existing(request, "people", ident)
    change = read_login(await read_form(request))
    if isinstance(change, str):
        return await show(request, "people", person, error=change, status=422)
    refused = await change_login(request, ident, change)
    if refused is not None:
        return await show(request, "people", person, error=refused[1], status=refused[0])
    shown = quote(ident, safe="")
    return RedirectResponse(f"/settings/people?saved={shown}#p-{shown}", status_code=303)
