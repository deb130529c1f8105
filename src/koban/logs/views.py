"""What people read of the logs' rows, for the REST API (``api/logs.py``) and the pages
(``web/logs_pages.py``) alike: a digest's runs newest first, paged by keyset on the window's start
(the unique (digest, window start) index, so an old page costs what the first does); each digest's
latest run; a log rule's last run and its state per key value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from koban.db.engine import Database
from koban.db.schema_logs import digest_runs as dr
from koban.db.schema_logs import log_rule_runs, log_rule_state

LISTED = (
    dr.c.id,
    dr.c.digest_id,
    dr.c.window_start,
    dr.c.window_end,
    dr.c.status,
    dr.c.started_at,
    dr.c.finished_at,
    dr.c.error,
)


async def runs(
    db: Database, digest_id: str, limit: int, before: float | None = None, after: float | None = None
) -> list[dict[str, Any]]:
    """Up to ``limit`` runs, newest window first: older than ``before``, or the ones just newer than
    ``after`` (read oldest first from the cursor, so the page next to it, then put back in order)."""
    q = sa.select(*LISTED).where(dr.c.digest_id == digest_id)
    if before is not None:
        q = q.where(dr.c.window_start < before).order_by(dr.c.window_start.desc())
    elif after is not None:
        q = q.where(dr.c.window_start > after).order_by(dr.c.window_start.asc())
    else:
        q = q.order_by(dr.c.window_start.desc())
    async with db.read() as conn:
        rows = [dict(r._mapping) for r in await conn.execute(q.limit(limit))]
    return rows[::-1] if before is None and after is not None else rows


async def latest_runs(db: Database, digest_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each digest's run of its latest window (a digest never run has none)."""
    ids = list(digest_ids)
    if not ids:
        return {}
    newest = (
        sa.select(dr.c.digest_id, sa.func.max(dr.c.window_start).label("start"))
        .where(dr.c.digest_id.in_(ids))
        .group_by(dr.c.digest_id)
        .subquery()
    )
    q = sa.select(*LISTED).join(
        newest, sa.and_(dr.c.digest_id == newest.c.digest_id, dr.c.window_start == newest.c.start)
    )
    async with db.read() as conn:
        return {r.digest_id: dict(r._mapping) for r in await conn.execute(q)}


def _run_fields(row: Any) -> dict[str, Any]:
    shown = dict(row._mapping) if row is not None else {}
    return {k: shown.get(k) for k in ("due_at", "last_run", "last_lag", "last_query_seconds", "error")}


async def rule_status(db: Database, rule_id: str, max_keys: int | None = None) -> dict[str, Any]:
    """A rule's last run (lag, query time, error) and its state per key value: firing keys first,
    then by value; ``max_keys`` bounds what a page shows of a rule split over many values."""
    st = log_rule_state.c
    keys_q = sa.select(log_rule_state).where(st.rule_id == rule_id).order_by(st.firing.desc(), st.key_value)
    async with db.read() as conn:
        run = (await conn.execute(sa.select(log_rule_runs).where(log_rule_runs.c.id == rule_id))).first()
        keys = list(await conn.execute(keys_q if max_keys is None else keys_q.limit(max_keys)))
        firing = (
            await conn.execute(
                sa.select(sa.func.count()).select_from(log_rule_state).where(st.rule_id == rule_id, st.firing)
            )
        ).scalar_one()
    state = [
        {
            "key": k.key_value,
            "firing": k.firing,
            "clear_runs": k.clear_runs,
            "last_run": k.last_run,
            "last_count": k.last_count,
            "error": k.error,
        }
        for k in keys
    ]
    return {"rule": rule_id, **_run_fields(run), "firing": int(firing), "keys": state}


async def rules_overview(db: Database) -> dict[str, dict[str, Any]]:
    """Every rule's last run, with how many of its keys fire: two reads, whatever the number of rules."""
    st = log_rule_state.c
    firing_q = sa.select(st.rule_id, sa.func.count()).where(st.firing).group_by(st.rule_id)
    async with db.read() as conn:
        found = {r.id: _run_fields(r) for r in await conn.execute(sa.select(log_rule_runs))}
        firing = {rule: int(n) for rule, n in await conn.execute(firing_q)}
    for rule, n in firing.items():
        found.setdefault(rule, _run_fields(None))["firing"] = n
    for shown in found.values():
        shown.setdefault("firing", 0)
    return found
