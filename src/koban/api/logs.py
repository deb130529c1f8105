"""REST: digests' runs (their numbers kept past the cluster's retention), a digest run or previewed on
demand, and each log rule's run status and state per key (docs/logs.md). The objects themselves are
config objects (``/api/v1/digests``, ``/api/v1/log_rules``, ``/api/v1/log_clusters`` in objects.py).
What is read and the run on demand are ``logs/views.py`` and ``logs/on_demand.py``, which the pages
call too."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from koban.api.access import READ, need
from koban.api.deps import ApiDeps, deps_of
from koban.auth.guard import origin_of
from koban.auth.permissions import Scope
from koban.config.model_logs import Digest
from koban.logs import on_demand, views
from koban.logs.client import LogQueryError
from koban.logs.digests import get_run, preview
from koban.logs.pipeline import as_of

router = APIRouter(prefix="/api/v1", tags=["logs"])
MANAGE = need(Scope.MANAGE)


async def _digest(deps: ApiDeps, ident: str) -> Digest:
    await deps.refresh_catalog()
    digest = deps.catalog.digests.get(ident)
    if digest is None:
        raise HTTPException(404, f"digests/{ident} does not exist")
    return digest


@router.get("/digests/{ident}/runs", summary="A digest's runs, newest first", dependencies=[READ])
async def list_runs(
    request: Request, ident: str, limit: int = 50, before: float | None = None
) -> dict[str, Any]:
    """``before``: a window start (a run's ``window_start``): the runs of older windows (keyset paging)."""
    deps = deps_of(request)
    await _digest(deps, ident)
    if not 1 <= limit <= 500:
        raise HTTPException(422, "limit must be between 1 and 500")
    rows = await views.runs(deps.db, ident, limit, before=before)
    return {"digest": ident, "runs": [{k: v for k, v in r.items() if k != "digest_id"} for r in rows]}


@router.get(
    "/digests/{ident}/runs/{run}", summary="One digest run with its numbers and posts", dependencies=[READ]
)
async def show_run(request: Request, ident: str, run: int) -> dict[str, Any]:
    found = await get_run(deps_of(request).db, ident, run)
    if found is None:
        raise HTTPException(404, f"digests/{ident} has no run {run}")
    return found


@router.post(
    "/digests/{ident}/preview",
    summary="The digest of its latest window as it would be posted (nothing stored, nothing posted)",
    dependencies=[MANAGE],
)
async def preview_digest(request: Request, ident: str) -> dict[str, Any]:
    deps = deps_of(request)
    digest = await _digest(deps, ident)
    try:
        return await preview(deps.catalog, digest, as_of(deps.clock.now()))
    except LogQueryError as exc:
        raise HTTPException(424, f"the log cluster did not answer the digest's query: {exc}") from exc


@router.post(
    "/digests/{ident}/run",
    summary="Run the digest's latest window now, if it has no run yet (once per window, as scheduled)",
    dependencies=[MANAGE],
)
async def run_now(request: Request, ident: str) -> dict[str, Any]:
    deps = deps_of(request)
    digest = await _digest(deps, ident)
    try:
        return await on_demand.run_now(deps, digest, origin_of(request))
    except on_demand.NotRun as exc:
        raise HTTPException(409, str(exc)) from exc


@router.get(
    "/log_rules/{ident}/status",
    summary="A log rule's last run (lag, query time, error) and its state per key value",
    dependencies=[READ],
)
async def rule_status(request: Request, ident: str) -> dict[str, Any]:
    deps = deps_of(request)
    await deps.refresh_catalog()
    if ident not in deps.catalog.log_rules:
        raise HTTPException(404, f"log_rules/{ident} does not exist")
    return await views.rule_status(deps.db, ident)
