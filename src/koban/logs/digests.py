"""Run a digest: at most one post per (digest, window), a failed run when the cluster says no.

``run_digest(deps, cfg, digest, now)`` finds the schedule's latest fire time at or before ``now``;
if that window has no run row yet it inserts one (the unique (digest, window start) key is the
exactly-once guard across instances and restarts), queries the cluster once, stores the numbers
and posts. Called every minute by the scheduler and once at start, which catches up a run missed
while koban was down (the latest one only: an old digest nobody read is not worth a flood).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from koban.config.model import ConfigFile
from koban.config.model_logs import Digest
from koban.db.engine import Database
from koban.db.schema_logs import digest_runs
from koban.logs.client import LogQueryError, conn_of, search
from koban.logs.posting import PostError, post
from koban.logs.queries import digest_body
from koban.logs.render import slack_message, webhook_document
from koban.logs.summary import discover_url, lucene_query, summarize
from koban.logs.windows import last_fire, window_for

log = logging.getLogger("koban.logs.digests")


@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: int
    status: str  # posted | failed
    error: str | None


async def run_digest(db: Database, cfg: ConfigFile, digest: Digest, now: datetime) -> RunResult | None:
    """None when nothing is due (no fire time yet, or this window already has its run)."""
    zone = ZoneInfo(digest.schedule.timezone)
    fired = last_fire(digest.schedule.cron, zone, now)
    if fired is None or not digest.enabled:
        return None
    window = window_for(digest.window, fired, zone)
    run_id = await _claim(db, digest.id, window.start.timestamp(), window.end.timestamp(), now.timestamp())
    if run_id is None:
        return None
    cluster = next(c for c in cfg.log_clusters if c.id == digest.cluster)
    body = digest_body(
        time_field=digest.time_field,
        level_field=digest.level_field,
        message_field=digest.message_field,
        levels=digest.levels,
        flt=digest.filter,
        start=window.start,
        end=window.end,
        zone=digest.schedule.timezone,
    )
    try:
        answer = await search(conn_of(cluster), digest.index, body)
    except LogQueryError as exc:
        log.warning("digest %s run %s failed: %s", digest.id, run_id, exc)
        await _finish(db, run_id, "failed", now, error=str(exc))
        return RunResult(run_id, "failed", str(exc))
    summary = summarize(answer, window, zone, digest.top)
    link = ""
    if cluster.dashboards_url:
        query = lucene_query(digest.level_field, digest.levels, digest.filter)
        link = discover_url(
            flavor=cluster.flavor, base=cluster.dashboards_url, index=digest.index,
            start=window.start, end=window.end, query=query,
        )  # fmt: skip
    # Marked "posting" before any post: a crash from here on leaves a run that is never posted
    # twice (at most once per window; the run page shows it stuck in "posting").
    await _update(db, run_id, status="posting", summary=summary.as_json() | {"link": link})
    posts: dict[str, Any] = {}
    channels = {c.id: c for c in cfg.channels}
    for ch_id in digest.channels:
        ch = channels[ch_id]
        try:
            posts[ch_id] = await post(
                ch.type,
                ch.settings(),
                slack_message(digest.name or digest.id, summary, digest.language, link),
                webhook_document(digest.id, run_id, summary, link),
            )
        except PostError as exc:
            posts[ch_id] = f"failed: {exc}"
    failed = [k for k, v in posts.items() if v != "sent"]
    error = f"not posted to {', '.join(failed)}" if failed else None
    await _finish(db, run_id, "failed" if failed else "posted", now, error=error, posts=posts)
    return RunResult(run_id, "failed" if failed else "posted", error)


async def _claim(db: Database, digest_id: str, start: float, end: float, now: float) -> int | None:
    try:
        async with db.begin() as conn:
            res = await conn.execute(
                sa.insert(digest_runs).values(
                    digest_id=digest_id, window_start=start, window_end=end, status="running", started_at=now
                )
            )
            key = res.inserted_primary_key
            assert key is not None
            return int(key[0])
    except IntegrityError:
        return None


async def _update(db: Database, run_id: int, **values: Any) -> None:
    async with db.begin() as conn:
        await conn.execute(sa.update(digest_runs).where(digest_runs.c.id == run_id).values(**values))


async def _finish(db: Database, run_id: int, status: str, now: datetime, **values: Any) -> None:
    await _update(db, run_id, status=status, finished_at=now.timestamp(), **values)


async def get_run(db: Database, digest_id: str, run_id: int) -> dict[str, Any] | None:
    async with db.read() as conn:
        row = (
            await conn.execute(
                sa.select(digest_runs).where(digest_runs.c.digest_id == digest_id, digest_runs.c.id == run_id)
            )
        ).first()
    return dict(row._mapping) if row else None
