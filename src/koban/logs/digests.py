"""Run a digest: at most one post per (digest, window), a failed run when the cluster says no.

``run_digest(deps, cfg, digest, now)`` finds the schedule's latest fire time at or before ``now``;
if that window has no run row yet it inserts one (the unique (digest, window start) key is the
exactly-once guard across instances and restarts), queries the cluster once, stores the numbers
and posts. Called every minute by the scheduler and once at start, which catches up a run missed
while koban was down (the latest one only: an old digest nobody read is not worth a flood).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from koban.config.model_logs import Digest, LogCluster
from koban.db.engine import Database
from koban.db.schema_logs import digest_runs
from koban.domain.alerts import AlertAction, AlertEvent, Severity
from koban.logs.client import LogQueryError, conn_of, search
from koban.logs.posting import PostError, post
from koban.logs.queries import digest_body
from koban.logs.render import Rendered, slack_message, webhook_document
from koban.logs.rule_runner import Emit
from koban.logs.summary import Summary, discover_url, lucene_query, pattern_counts, summarize
from koban.logs.trends import history_body, movers, new_patterns
from koban.logs.windows import Window, last_fire, window_for

log = logging.getLogger("koban.logs.digests")


class LogConfig(Protocol):
    """A ``ConfigFile`` (lists) or the running ``Catalog`` (mappings by id)."""

    @property
    def log_clusters(self) -> Any: ...
    @property
    def channels(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: int
    status: str  # posted | failed
    error: str | None


def _by_id(items: Any) -> Mapping[str, Any]:
    return items if isinstance(items, Mapping) else {o.id: o for o in items}


def _body(digest: Digest, window: Window) -> dict[str, Any]:
    return digest_body(
        time_field=digest.time_field,
        level_field=digest.level_field,
        message_field=digest.message_field,
        levels=digest.levels,
        flt=digest.filter,
        start=window.start,
        end=window.end,
        zone=digest.schedule.timezone,
    )


def _link(cluster: LogCluster, digest: Digest, window: Window) -> str:
    if not cluster.dashboards_url:
        return ""
    query = lucene_query(digest.level_field, digest.levels, digest.filter)
    return discover_url(
        flavor=cluster.flavor, base=cluster.dashboards_url, index=digest.index,
        start=window.start, end=window.end, query=query,
    )  # fmt: skip


def due_window(digest: Digest, now: datetime) -> Window | None:
    """The window of the schedule's latest fire time at or before ``now`` (None: none within 8 days)."""
    zone = ZoneInfo(digest.schedule.timezone)
    fired = last_fire(digest.schedule.cron, zone, now)
    return None if fired is None else window_for(digest.window, fired, zone)


async def summary_of(cluster: LogCluster, digest: Digest, window: Window) -> Summary:
    """The window's numbers, with the new patterns and the movers when the digest asks for them: at
    most two queries (the window, and its history). Raises ``LogQueryError``."""
    zone = ZoneInfo(digest.schedule.timezone)
    conn = conn_of(cluster)
    answer = await search(conn, digest.index, _body(digest, window))
    summary = summarize(answer, window, zone, digest.top)
    history = history_body(
        time_field=digest.time_field, message_field=digest.message_field, levels=digest.levels,
        level_field=digest.level_field, flt=digest.filter, window=window, zone=zone,
        new_days=digest.new_pattern_days, weeks=digest.mover_weeks if digest.movers else 0,
    )  # fmt: skip
    if history is None:
        return summary
    past = await search(conn, digest.index, history)
    current = pattern_counts(answer)
    return replace(
        summary,
        new_patterns=new_patterns(past, current)[: digest.top] if digest.new_pattern_days else [],
        movers=movers(past, current, digest.mover_weeks, digest.movers) if digest.movers else [],
    )


async def preview(cfg: LogConfig, digest: Digest, now: datetime) -> dict[str, Any]:
    """The latest window's digest as it would be posted, without a run row and without posting."""
    zone = ZoneInfo(digest.schedule.timezone)
    window = due_window(digest, now) or window_for(digest.window, now, zone)
    cluster = _by_id(cfg.log_clusters)[digest.cluster]
    summary = await summary_of(cluster, digest, window)
    link = _link(cluster, digest, window)
    return {
        "summary": summary.as_json() | {"link": link},
        "slack": slack_message(
            digest.name or digest.id,
            summary,
            digest.language,
            link,
            digest.new_pattern_days,
            digest.mover_weeks,
        ),
        "webhook": webhook_document(digest.id, 0, summary, link),
    }


async def run_digest(
    db: Database, cfg: LogConfig, digest: Digest, now: datetime, emit: Emit | None = None
) -> RunResult | None:
    """None when nothing is due (no fire time yet, or this window already has its run).
    ``emit``: where a failed run raises its alert (and a good one resolves it), when the digest
    names a ``service``."""
    window = due_window(digest, now)
    if window is None or not digest.enabled:
        return None
    zone = ZoneInfo(digest.schedule.timezone)
    run_id = await _claim(db, digest.id, window.start.timestamp(), window.end.timestamp(), now.timestamp())
    if run_id is None:
        return None
    result = await _run(db, cfg, digest, window, zone, run_id, now)
    if emit is not None and digest.service:
        await emit(digest.service, [failure_event(digest, result, now)])
    return result


async def _run(
    db: Database, cfg: LogConfig, digest: Digest, window: Window, zone: ZoneInfo, run_id: int, now: datetime
) -> RunResult:
    cluster = _by_id(cfg.log_clusters)[digest.cluster]
    try:
        summary = await summary_of(cluster, digest, window)
    except LogQueryError as exc:
        log.warning("digest %s run %s failed: %s", digest.id, run_id, exc)
        await _finish(db, run_id, "failed", now, error=str(exc))
        return RunResult(run_id, "failed", str(exc))
    link = _link(cluster, digest, window)
    # Marked "posting" before any post: a crash from here on leaves a run that is never posted
    # twice (at most once per window; the run page shows it stuck in "posting").
    await _update(db, run_id, status="posting", summary=summary.as_json() | {"link": link})
    posts: dict[str, Any] = {}
    channels = _by_id(cfg.channels)
    for ch_id in digest.channels:
        ch = channels[ch_id]
        language = digest.languages.get(ch_id, digest.language)
        try:
            posts[ch_id] = await post(
                ch.type,
                ch.settings(),
                Rendered(
                    digest.name or digest.id,
                    summary,
                    language,
                    link,
                    digest.id,
                    run_id,
                    digest.new_pattern_days,
                    digest.mover_weeks,
                ),  # fmt: skip
                digest.email_to,
            )
        except PostError as exc:
            posts[ch_id] = f"failed: {exc}"
    failed = [k for k, v in posts.items() if v != "sent"]
    error = f"not posted to {', '.join(failed)}" if failed else None
    await _finish(db, run_id, "failed" if failed else "posted", now, error=error, posts=posts)
    return RunResult(run_id, "failed" if failed else "posted", error)


def failure_event(digest: Digest, result: RunResult, now: datetime) -> AlertEvent:
    """A failed run is an alert, not silence; the next good run resolves it (one key per digest)."""
    failed = result.status == "failed"
    return AlertEvent(
        dedup_key=f"digest:{digest.id}",
        action=AlertAction.TRIGGER if failed else AlertAction.RESOLVE,
        severity=Severity.WARNING,
        summary=f"digest {digest.id} failed: {result.error}" if failed else f"digest {digest.id} posted",
        source="koban.logs",
        details={"run": result.run_id, "error": result.error},
        labels={"digest": digest.id},
        occurred_at=now,
    )


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
