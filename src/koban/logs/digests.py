"""Run a digest: at most one post per (digest, window), a failed run when the cluster says no.

``run_digest(deps, cfg, digest, now)`` finds the schedule's latest fire time at or before ``now``;
if that window has no run row yet it inserts one (the unique (digest, window start) key is the
exactly-once guard across instances and restarts), queries the cluster once, and stores the numbers
with one durable post row per channel (``digest_posts.py``), which it posts at once; a post that
fails for a while is retried by the worker, and the run says ``posting`` until the last one settles.
Called every minute by the scheduler and once at start, which catches up a run missed while koban
was down (the latest one only: an old digest nobody read is not worth a flood).
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
from koban.logs import digest_posts
from koban.logs.client import LogQueryError, conn_of, search
from koban.logs.links import row_links
from koban.logs.posting import PostError, render
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
    status: str  # posted | failed | posting (a post is being retried)
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
        return _with_links(cluster, digest, window, summary)
    past = await search(conn, digest.index, history)
    current = pattern_counts(answer)
    return _with_links(
        cluster,
        digest,
        window,
        replace(
            summary,
            new_patterns=new_patterns(past, current)[: digest.top] if digest.new_pattern_days else [],
            movers=movers(past, current, digest.mover_weeks, digest.movers) if digest.movers else [],
        ),
    )


def _with_links(cluster: LogCluster, digest: Digest, window: Window, summary: Summary) -> Summary:
    links = row_links(cluster.dashboards_url or "", cluster.flavor, digest, window, summary)
    return replace(summary, links=links)


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
    db: Database,
    cfg: LogConfig,
    digest: Digest,
    now: datetime,
    emit: Emit | None = None,
    owner: str = "koban",
) -> RunResult | None:
    """None when nothing is due (no fire time yet, or this window already has its run).
    ``emit``: where a failed run raises its alert (and a good one resolves it), when the digest
    names a ``service``. ``owner``: this instance, which holds the leases of the posts it makes."""
    window = due_window(digest, now)
    if window is None or not digest.enabled:
        return None
    run_id = await _claim(db, digest.id, window.start.timestamp(), window.end.timestamp(), now.timestamp())
    if run_id is None:
        return None
    result = await _run(db, cfg, digest, window, run_id, now, owner)
    if emit is not None and digest.service and result.status != "posting":
        await emit(digest.service, [failure_event(digest.id, result, now)])
    return result


async def _run(
    db: Database, cfg: LogConfig, digest: Digest, window: Window, run_id: int, now: datetime, owner: str
) -> RunResult:
    cluster = _by_id(cfg.log_clusters)[digest.cluster]
    try:
        summary = await summary_of(cluster, digest, window)
    except LogQueryError as exc:
        log.warning("digest %s run %s failed: %s", digest.id, run_id, exc)
        await _update(db, run_id, status="failed", finished_at=now.timestamp(), error=str(exc))
        return RunResult(run_id, "failed", str(exc))
    link = _link(cluster, digest, window)
    channels = _by_id(cfg.channels)
    payloads: dict[str, tuple[str, dict[str, Any]]] = {}
    refused: dict[str, tuple[str, str]] = {}
    for ch_id in digest.channels:
        kind = channels[ch_id].type
        language = digest.languages.get(ch_id, digest.language)
        rendered = Rendered(
            digest.name or digest.id, summary, language, link, digest.id, run_id,
            digest.new_pattern_days, digest.mover_weeks,
        )  # fmt: skip
        try:
            payloads[ch_id] = (kind, render(kind, rendered, digest.email_to))
        except PostError as exc:
            refused[ch_id] = (kind, str(exc))
    # The numbers and the posts to make are one transaction: from here on the outbox rows carry the
    # posts, retried by any instance's worker (digest_posts.py), never made twice for this window.
    stamp = now.timestamp()
    async with db.begin() as conn:
        await conn.execute(
            sa.update(digest_runs)
            .where(digest_runs.c.id == run_id)
            .values(status="posting", summary=summary.as_json() | {"link": link})
        )
        start = window.start.timestamp()
        rows = await digest_posts.queue(conn, run_id, digest.id, start, payloads, owner, stamp, refused)
    await digest_posts.send_rows(db, channels, rows, owner, lambda: stamp)
    final = await digest_posts.settle(db, run_id, stamp)
    if final is None:  # a post is being retried: the run says "posting" until it settles
        return RunResult(run_id, "posting", None)
    return RunResult(run_id, final[0], final[1])


def failure_event(digest_id: str, result: RunResult, now: datetime) -> AlertEvent:
    """A failed run is an alert, not silence; the next good run resolves it (one key per digest)."""
    failed = result.status == "failed"
    return AlertEvent(
        dedup_key=f"digest:{digest_id}",
        action=AlertAction.TRIGGER if failed else AlertAction.RESOLVE,
        severity=Severity.WARNING,
        summary=f"digest {digest_id} failed: {result.error}" if failed else f"digest {digest_id} posted",
        source="koban.logs",
        details={"run": result.run_id, "error": result.error},
        labels={"digest": digest_id},
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


async def get_run(db: Database, digest_id: str, run_id: int) -> dict[str, Any] | None:
    async with db.read() as conn:
        row = (
            await conn.execute(
                sa.select(digest_runs).where(digest_runs.c.digest_id == digest_id, digest_runs.c.id == run_id)
            )
        ).first()
    if row is None:
        return None
    return dict(row._mapping) | {"deliveries": await digest_posts.posts_of(db, run_id)}
