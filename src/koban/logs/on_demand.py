"""A digest run on a person's demand, for the REST API (``POST /api/v1/digests/{id}/run``) and the
digest's page alike: the scheduler's own ``run_digest`` (once per window: a window that already has
a run is not run again), its alerts through the same pipeline, and an entry on the audit trail.
"""

from __future__ import annotations

from typing import Any

from koban.auth.audit import Change, Origin, record
from koban.catalog.deps import StoreDeps
from koban.config.model_logs import Digest
from koban.logs.digests import get_run, run_digest
from koban.logs.pipeline import Pipeline, as_of


class NotRun(Exception):
    """Why nothing ran: ``disabled``, or ``already_run`` (the latest window has its run). A 409."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


async def run_now(deps: StoreDeps, digest: Digest, origin: Origin) -> dict[str, Any]:
    """The latest window's run, as ``get_run`` shows it. Raises ``NotRun``."""
    if not digest.enabled:
        raise NotRun("disabled", f"digests/{digest.id} is disabled")
    result = await run_digest(
        deps.db, deps.catalog, digest, as_of(deps.clock.now()), Pipeline(deps), deps.owner
    )
    if result is None:
        message = f"digests/{digest.id}: its latest window already has a run (see its runs)"
        raise NotRun("already_run", message)
    async with deps.db.begin() as conn:
        after = {"run": result.run_id, "status": result.status}
        change = Change("digests.run", "digests", digest.id, None, after)
        await record(conn, origin, [change], deps.clock.now())
    found = await get_run(deps.db, digest.id, result.run_id)
    assert found is not None
    return found
