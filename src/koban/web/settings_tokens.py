"""``/settings/tokens``: API tokens, by the REST API's rules (``auth/token_admin.py``, the same
functions ``api/tokens.py`` calls): a person lists, makes and revokes their own; an administrator
sees everyone's and may make one for another person. A new token's text is on the answer to the
form that made it, once: koban keeps only its digest, so no later page can show it again.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from koban.auth.permissions import Need, Principal, Scope, decide
from koban.auth.store import list_tokens
from koban.auth.token_admin import Issued, TokenRequest, issue_token, may_manage, revoke
from koban.web.deps import deps_of
from koban.web.guard import PageRefused, page_needs
from koban.web.i18n import N_
from koban.web.incidents_list import origin_of
from koban.web.render import render, viewer_of

router = APIRouter(include_in_schema=False)
READ = page_needs(Scope.READ)
SCOPES = ("read", "respond", "manage", "admin")
LIFETIMES = {"": None, "30": 30 * 86400, "90": 90 * 86400, "365": 365 * 86400}  # days -> seconds
MAX_NAME = 200


async def _show(
    request: Request, issued: Issued | None = None, error: str = "", status: int = 200, revoked: int = 0
) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    who: Principal = request.state.principal
    admin = decide(who, Need(Scope.ADMIN)).allowed
    async with deps.db.read() as conn:
        tokens = await list_tokens(conn, None if admin else who.person_id)
    return render(
        await viewer_of(request),
        "settings_tokens.html",
        status,
        nav="settings",
        tokens=tokens,
        admin=admin,
        issued=issued,
        error=error,
        revoked=revoked,
        scopes=SCOPES,
        teams=sorted(deps.catalog.teams),
        people=sorted(deps.catalog.people) if admin else [],
        now=deps.clock.now(),
    )


@router.get("/settings/tokens", dependencies=[READ])
async def tokens_page(request: Request, revoked: int = 0) -> Response:
    return await _show(request, revoked=max(0, revoked))


def _read_form(form: dict[str, str], who: Principal, teams: set[str]) -> TokenRequest | str:
    """The form as a token request, or the words of why not (a 422)."""
    name = form.get("name", "").strip()[:MAX_NAME]
    if not name:
        return N_("Give the token a name.")
    if form.get("scope", "read") not in SCOPES:
        return N_("Pick a scope.")
    if form.get("expires", "") not in LIFETIMES:
        return N_("Pick a lifetime.")
    team = form.get("team", "") or None
    if team is not None and team not in teams:
        return N_("No such team.")
    owner = form.get("person", "") or who.person_id
    return TokenRequest(
        owner,
        name,
        Scope.parse(form.get("scope", "read")),
        team,
        LIFETIMES[form.get("expires", "")],
        service=form.get("kind") == "service",
    )


@router.post("/settings/tokens", dependencies=[READ])
async def create_token(request: Request) -> Response:
    """Shows the new token on this answer (not a redirect): a reload would ask to post again, and
    no page after it ever has the text."""
    deps = deps_of(request)
    await deps.refresh_catalog()
    raw = await request.form(max_fields=20)
    form = {k: str(v)[:1024] for k, v in raw.items()}
    who: Principal = request.state.principal
    new = _read_form(form, who, set(deps.catalog.teams))
    if isinstance(new, str):
        return await _show(request, error=new, status=422)
    if not may_manage(who, new.owner):
        raise PageRefused(403, "only an administrator makes a token for another person")
    if new.owner not in deps.catalog.people:
        return await _show(request, error=N_("No such person."), status=422)
    async with deps.db.begin() as conn:
        issued = await issue_token(conn, origin_of(request), deps.clock.now(), new)
    return await _show(request, issued=issued)


@router.post("/settings/tokens/{token_id}/revoke", dependencies=[READ])
async def revoke_token(request: Request, token_id: int) -> Response:
    deps = deps_of(request)
    if not 1 <= token_id <= 2**31 - 1:
        raise PageRefused(404, f"no active token {token_id}")
    async with deps.db.begin() as conn:
        done = await revoke(conn, request.state.principal, origin_of(request), deps.clock.now(), token_id)
    if not done:  # someone else's is answered as absent, as the REST route does
        raise PageRefused(404, f"no active token {token_id}")
    return RedirectResponse(f"/settings/tokens?revoked={token_id}", status_code=303)
