"""REST: digests' runs (their numbers kept past the cluster's retention), a digest run or previewed on
demand, and each log rule's run status and state per key (docs/logs.md). The objects themselves are
config objects (``/api/v1/digests``, ``/api/v1/log_rules``, ``/api/v1/log_clusters`` in objects.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request

from koban.api.access import READ, need
from koban.api.deps import ApiDeps, deps_of
from koban.auth.audit import Change, record
from koban.auth.guard import origin_of
from koban.auth.permissions import Scope
from koban.config.model_logs import Digest
from koban.db.schema_logs import digest_runs as dr
from koban.db.schema_logs import log_rule_runs, log_rule_state
from koban.logs.client import LogQueryError
from koban.logs.digests import get_run, preview, run_digest
from koban.logs.pipeline import Pipeline, as_of

router = APIRouter(prefix="/api/v1", tags=["logs"])
MANAGE = need(Scope.MANAGE)
_LISTED = (
    dr.c.id,
    dr.c.window_start,
    dr.c.window_end,
    dr.c.status,
    dr.c.started_at,
    dr.c.finished_at,
    dr.c.error,
)


async def _digest(deps: ApiDeps, ident: str) -> Digest:
    await deps.refresh_catalog()
    digest = deps.catalog.digests.get(ident)
    if digest is None:
        raise HTTPException(404, f"digests/{ident} does not exist")
    return digest


@router.get("/digests/{ident}/runs", summary="A digest's runs, newest first", dependencies=[READ])
async def list_runs(request: Request, ident: str, limit: int = 50) -> dict[str, Any]:
    deps = deps_of(request)
    await _digest(deps, ident)
    if not 1 <= limit <= 500:
        raise HTTPException(422, "limit must be between 1 and 500")
    q = sa.select(*_LISTED).where(dr.c.digest_id == ident).order_by(dr.c.window_start.desc()).limit(limit)
    async with deps.db.read() as conn:
        rows = [dict(r._mapping) for r in await conn.execute(q)]
    return {"digest": ident, "runs": rows}


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
    if not digest.enabled:
        raise HTTPException(409, f"digests/{ident} is disabled")
    result = await run_digest(
        deps.db, deps.catalog, digest, as_of(deps.clock.now()), Pipeline(deps), deps.owner
    )
    if result is None:
        raise HTTPException(409, f"digests/{ident}: its latest window already has a run (see its runs)")
    async with deps.db.begin() as conn:
        change = Change(
            "digests.run", "digests", ident, None, {"run": result.run_id, "status": result.status}
        )
        await record(conn, origin_of(request), [change], deps.clock.now())
    found = await get_run(deps.db, ident, result.run_id)
    assert found is not None
    return found


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
    async with deps.db.read() as conn:
        run = (await conn.execute(sa.select(log_rule_runs).where(log_rule_runs.c.id == ident))).first()
        keys = await conn.execute(
            sa.select(log_rule_state)
            .where(log_rule_state.c.rule_id == ident)
            .order_by(log_rule_state.c.key_value)
        )
        state = [
            {"key": k.key_value, "firing": k.firing, "clear_runs": k.clear_runs, "last_run": k.last_run}
            for k in keys
        ]
    shown = dict(run._mapping) if run else {}
    return {
        "rule": ident,
        "due_at": shown.get("due_at"),
        "last_run": shown.get("last_run"),
        "last_lag": shown.get("last_lag"),
        "last_query_seconds": shown.get("last_query_seconds"),
        "error": shown.get("error"),
        "keys": state,
    }
