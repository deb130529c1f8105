"""A digest's buttons, for those with the manage scope (as ``POST /api/v1/digests/{id}/preview`` and
``/run``), through the functions those routes call:

- "Preview": the latest window's digest as it would be posted, on the digest's page; nothing is
  stored or posted (a cluster that does not answer: a 424 saying why);
- "Run now": ``logs/on_demand.run_now`` (once per window, audited with the door ``ui``), then the
  run's page; a window that already has its run, or a disabled digest, is a 409 saying so in words.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from koban.auth.guard import origin_of
from koban.auth.permissions import Scope
from koban.catalog.deps import StoreDeps
from koban.config.model_logs import Digest
from koban.logs import on_demand
from koban.logs.client import LogQueryError
from koban.logs.digests import preview
from koban.logs.pipeline import as_of
from koban.web.deps import deps_of
from koban.web.guard import PageRefused, page_needs
from koban.web.i18n import N_
from koban.web.logs_pages import safe_link, show_digest

router = APIRouter(include_in_schema=False)
MANAGE = page_needs(Scope.MANAGE)
WHY_NOT = {
    "already_run": N_("This digest's latest window already has its run (a window runs once): see its runs."),
    "disabled": N_("This digest is disabled: it does not run."),
}


async def _digest(request: Request, ident: str) -> Digest:
    deps = deps_of(request)
    await deps.refresh_catalog()
    digest: Digest | None = deps.catalog.digests.get(ident)
    if digest is None:  # 404 before anything else, as the REST API answers
        raise PageRefused(404, f"digests/{ident} does not exist")
    return digest


@router.post("/logs/digests/{ident}/preview", dependencies=[MANAGE])
async def preview_digest(request: Request, ident: str) -> Response:
    digest = await _digest(request, ident)
    deps = deps_of(request)
    try:
        shown = await preview(deps.catalog, digest, as_of(deps.clock.now()))
    except LogQueryError as exc:
        why = N_("The log cluster did not answer the digest's query: %(error)s")
        return await show_digest(request, ident, 424, message=why, error=str(exc))
    summary = shown["summary"]
    return await show_digest(request, ident, preview=summary, link=safe_link(summary.get("link")))


@router.post("/logs/digests/{ident}/run", dependencies=[MANAGE])
async def run_digest_now(request: Request, ident: str) -> Response:
    digest = await _digest(request, ident)
    # The app's deps are the store's (``StoreDeps``): a run takes leases as this instance and
    # raises its alerts through the pipeline, as the scheduler's runs do.
    deps: StoreDeps = request.app.state.deps
    try:
        run = await on_demand.run_now(deps, digest, origin_of(request))
    except on_demand.NotRun as exc:
        return await show_digest(request, ident, 409, message=WHY_NOT[exc.reason])
    return RedirectResponse(f"/logs/digests/{ident}/runs/{run['id']}", status_code=303)
