"""Slack misbehaving under a running engine: nothing lost, nothing posted twice, broken channels shown."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from koban.bootstrap.app import create_app
from koban.db import schema as t
from tests.channels.slack.engine_rig import slack_rig
from tests.support.admin import AdminToken
from tests.support.factories import make_alert
from tests.support.system import drain


async def delivery_rows(k) -> list[dict]:
    async with k.db.read() as conn:
        rows = await conn.execute(sa.select(t.deliveries).order_by(t.deliveries.c.id))
        return [dict(r) for r in rows.mappings()]


def posts(fake) -> list[dict]:
    return [m for m in fake.messages if not m["thread_ts"]]


async def test_rate_limited_post_waits_for_retry_after_then_posts_once(db_url, tmp_path):
    async with slack_rig(db_url, tmp_path) as rig:
        rig.fake.fail_next("chat.postMessage", status=429, retry_after=30)
        await rig.k.batcher.submit("web-generic", [make_alert()])
        await drain(rig.k)
        assert posts(rig.fake) == []
        [row] = await delivery_rows(rig.k)
        assert row["state"] == "pending" and row["due_at"] >= rig.k.clock.now() + 30
        rig.k.clock.advance(29)
        await drain(rig.k)
        assert posts(rig.fake) == []
        rig.k.clock.advance(2)
        await drain(rig.k)
        assert len(posts(rig.fake)) == 1
        assert rig.fake.requests.count("chat.postMessage") == 2


async def test_server_errors_are_retried_until_one_post_lands(db_url, tmp_path):
    async with slack_rig(db_url, tmp_path) as rig:
        rig.fake.fail_next("chat.postMessage", status=500, count=2)
        rig.fake.fail_next("chat.postMessage", status=200, error="internal_error")
        await rig.k.batcher.submit("web-generic", [make_alert()])
        for _ in range(4):
            await drain(rig.k)
            rig.k.clock.advance(60)  # past any backoff
        assert len(posts(rig.fake)) == 1
        [row] = await delivery_rows(rig.k)
        assert (row["state"], row["attempts"]) == ("sent", 4)


async def test_timeout_after_posting_is_reconciled_from_history_not_posted_again(db_url, tmp_path):
    async with slack_rig(db_url, tmp_path, channel="C0ALERTS") as rig:
        rig.fake.fail_next("chat.postMessage", delay=2.5)  # slower than the channel's 2 s timeout
        await rig.k.batcher.submit("web-generic", [make_alert()])
        await drain(rig.k)
        [row] = await delivery_rows(rig.k)
        assert row["state"] == "in_doubt"
        rig.k.clock.advance(60)
        await drain(rig.k)
        [row] = await delivery_rows(rig.k)
        assert row["state"] == "sent"
        [msg] = posts(rig.fake)  # the slow post landed; the reconcile found it by its key
        assert row["provider_ref"] == msg["ts"]
        assert rig.fake.requests.count("chat.postMessage") == 1


async def test_timeout_before_anything_landed_is_posted_once_after_lookup(db_url, tmp_path):
    async with slack_rig(db_url, tmp_path, channel="C0ALERTS") as rig:
        await rig.k.batcher.submit("web-generic", [make_alert()])
        rig.fake.fail_next("chat.postMessage", status=503, delay=2.5)  # slow, then refuses
        await drain(rig.k)
        [row] = await delivery_rows(rig.k)
        assert row["state"] == "in_doubt"
        # The timed-out post is still running at Slack until its 503: the fake clock skips the
        # backoff, so without this wait the lookup raced a request still in flight (issue 17, item
        # 21: the test used to loop until it passed). Once it has answered, one round decides.
        await rig.fake.settled()
        rig.k.clock.advance(60)
        await drain(rig.k)
        assert rig.fake.requests == ["chat.postMessage", "conversations.history", "chat.postMessage"]
        assert len(posts(rig.fake)) == 1
        [row] = await delivery_rows(rig.k)
        assert row["state"] == "sent"


async def test_archived_channel_is_marked_broken_shown_and_the_escalation_moves_on(db_url, tmp_path):
    async with slack_rig(db_url, tmp_path) as rig:
        rig.fake.fail_next("chat.postMessage", error="is_archived")
        await rig.k.batcher.submit("web-generic", [make_alert()])
        await drain(rig.k)
        # Nobody could be reached in step 1: step 2 (the webhook) runs without waiting 5 minutes.
        assert len(rig.hook.deliveries) == 1
        api = httpx.ASGITransport(app=create_app(rig.k, manage_system=False))
        async with httpx.AsyncClient(transport=api, base_url="http://koban", auth=AdminToken(rig.k)) as http:
            status = (await http.get("/api/v1/channel-status/slack")).json()
            assert status["broken"] and "archived" in status["reason"]
            # A later incident skips the broken channel at once instead of calling Slack again.
            await rig.k.batcher.submit("web-generic", [make_alert("other")])
            await drain(rig.k)
            assert rig.fake.requests.count("chat.postMessage") == 1
            assert len(rig.hook.deliveries) == 2
            assert (await http.delete("/api/v1/channel-status/slack/broken")).json()["cleared"]
            assert not (await http.get("/api/v1/channel-status/slack")).json()["broken"]
