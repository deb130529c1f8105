"""A digest's posts are durable delivery rows: a receiver that fails for a while gets the digest on a
retry (once, by whichever instance), a receiver that refuses it fails the run and alerts its service,
and a post left half-sent by a dead instance is posted again only where duplicates fold."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from koban.core.clock import FakeClock
from koban.db.schema_logs import digest_posts, digest_runs
from koban.fakes.slack.server import WEBHOOK, FakeSlack
from koban.fakes.webhook_receiver import RecordingReceiver
from koban.logs import digest_posts as outbox
from koban.logs.digests import get_run
from koban.logs.post_rules import MAYBE_POSTED
from koban.logs.worker import LogWork
from tests.logs.factories import doc, make_index
from tests.logs.test_worker_opensearch import digest, incidents, with_logs
from tests.support.system import running_system

AFTER_FIRE = datetime(2027, 3, 10, 0, 5, tzinfo=UTC)  # 09:05 in Tokyo


async def the_run(k) -> dict[str, Any]:
    async with k.db.read() as conn:
        run_id = (await conn.execute(sa.select(digest_runs.c.id))).scalar_one()
    found = await get_run(k.db, "daily", run_id)
    assert found is not None
    return found


async def test_a_receiver_down_for_a_while_gets_the_digest_once_on_a_retry(opensearch_url, db_url, tmp_path):
    index = await make_index(opensearch_url, [doc(AFTER_FIRE - timedelta(hours=12), "ERROR", "boom 7")])
    clock = FakeClock(AFTER_FIRE.timestamp())
    async with FakeSlack() as slack:
        slack.fail_next(WEBHOOK, status=503, count=2)
        cfg = with_logs(opensearch_url, **digest(opensearch_url, slack.webhook_url(), index))
        async with running_system(db_url, cfg, tmp_path, clock=clock) as k:
            other = LogWork(dataclasses.replace(k.deps, owner="other-instance"))
            assert await k.logs.tick() == 1
            run = await the_run(k)
            assert run["status"] == "posting" and slack.messages == []
            [post] = run["deliveries"]
            assert post["state"] == "pending" and post["attempts"] == 1 and "503" in post["error"]
            assert await other.tick() == 0  # not due yet
            clock.advance(3600)
            assert await other.tick() == 1  # the second failure
            clock.advance(3600)
            assert await other.tick() == 1 and await k.logs.tick() == 0
            assert len(slack.messages) == 1 and "1 entries" in slack.messages[0]["text"]
            run = await the_run(k)
            assert run["status"] == "posted" and run["posts"] == {"team-slack": "sent"}
            assert run["deliveries"][0]["attempts"] == 3 and run["deliveries"][0]["state"] == "sent"
            clock.advance(3600)
            assert await k.logs.tick() == 0 and await other.tick() == 0 and len(slack.messages) == 1
            assert await incidents(k) == []


async def test_a_receiver_that_refuses_the_digest_fails_the_run_and_alerts_its_service(
    opensearch_url, db_url, tmp_path
):
    index = await make_index(opensearch_url, [doc(AFTER_FIRE - timedelta(hours=12), "ERROR", "boom 7")])
    clock = FakeClock(AFTER_FIRE.timestamp())
    async with FakeSlack() as slack:
        slack.fail_next(WEBHOOK, status=404, error="no_service")
        cfg = with_logs(opensearch_url, **digest(opensearch_url, slack.webhook_url(), index))
        async with running_system(db_url, cfg, tmp_path, clock=clock) as k:
            assert await k.logs.tick() == 1
            run = await the_run(k)
            assert run["status"] == "failed" and "team-slack (HTTP 404" in run["error"]
            assert run["deliveries"][0]["state"] == "failed"
            assert await incidents(k) == [("web", "digest:daily", "triggered")]
            clock.advance(3600)
            await k.logs.tick()
            assert slack.messages == []  # not retried: a refusal is for good


def crashed_config(url: str, webhook: str, hook: str) -> Any:
    cfg = digest(url, webhook, "logs-*", channels=["team-slack", "hook"], enabled=False)
    cfg["channels"].append({"id": "hook", "type": "webhook", "url": hook})
    return with_logs(url, **cfg)


async def test_posts_left_half_sent_by_a_dead_instance_are_resent_only_where_duplicates_fold(
    db_url, tmp_path
):
    clock = FakeClock(AFTER_FIRE.timestamp())
    async with FakeSlack() as slack, RecordingReceiver() as hook:
        cfg = crashed_config("http://127.0.0.1:9", slack.webhook_url(), hook.url)
        async with running_system(db_url, cfg, tmp_path, clock=clock) as k:
            now = clock.now()
            async with k.db.begin() as conn:  # what a dead instance left: a run posting, posts "sending"
                res = await conn.execute(
                    sa.insert(digest_runs).values(
                        digest_id="daily", window_start=now - 86400, window_end=now, status="posting",
                        started_at=now,
                    )
                )  # fmt: skip
                run_id = int(res.inserted_primary_key[0])
                payloads = {"team-slack": ("slack", {"text": "x"}), "hook": ("webhook", {"digest": "daily"})}
                await outbox.queue(conn, run_id, "daily", now - 86400, payloads, "dead", now)
            assert await k.logs.tick() == 0  # the dead instance's lease still holds
            clock.advance(outbox.LEASE + 1)
            assert await k.logs.tick() == 2
            assert slack.messages == []  # it may have gone out: Slack is not posted twice
            [got] = hook.state.deliveries
            assert got["idempotency_key"] == f"koban-digest-daily:{now - 86400:.0f}:hook"
            async with k.db.read() as conn:
                states = dict(
                    (await conn.execute(sa.select(digest_posts.c.channel_id, digest_posts.c.state))).all()
                )
            assert states == {"team-slack": "failed", "hook": "sent"}
            run = await the_run(k)
            assert run["status"] == "failed" and MAYBE_POSTED in run["error"]
            assert await incidents(k) == [("web", "digest:daily", "triggered")]
