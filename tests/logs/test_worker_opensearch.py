"""The logs' worker in a running koban against the real OpenSearch: rules raise incidents through the
alert pipeline (one per rule and key, however often it keeps matching, resolved after clear runs),
each rule runs once per interval across instances, and digests post once per window, catch up at
start, and alert their service when the cluster is down."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from koban.core.clock import FakeClock
from koban.db import schema as t
from koban.db.schema_logs import digest_runs, log_rule_runs
from koban.fakes.slack.server import FakeSlack
from koban.logs.worker import LogWork
from tests.logs.factories import doc, make_index
from tests.support.factories import make_config
from tests.support.system import running_system

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


def with_logs(url: str, **sections: Any):
    data = make_config().model_dump(mode="json")
    data["log_clusters"] = [{"id": "local", "url": url}]
    return type(make_config()).model_validate(data | sections)


async def incidents(k) -> list[tuple[str, str, str]]:
    async with k.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.incidents.c.service_id, t.incidents.c.incident_key, t.incidents.c.status).order_by(
                t.incidents.c.id
            )
        )
        return [tuple(r) for r in rows]


async def test_a_frequency_rule_opens_one_incident_while_it_matches_and_resolves_after_clear_runs(
    opensearch_url, db_url, tmp_path
):
    errors = [doc(NOW - timedelta(seconds=10 + i), "ERROR", "boom", service="pay") for i in range(3)]
    index = await make_index(opensearch_url, errors)
    rule = {
        "id": "pay-errors", "cluster": "local", "service": "web", "type": "frequency", "index": index,
        "num_events": 3, "timeframe": "1m", "interval": "10s", "query_key": "service",
        "filter": "level:ERROR",
    }  # fmt: skip
    clock = FakeClock(NOW.timestamp())
    async with running_system(
        db_url, with_logs(opensearch_url, log_rules=[rule]), tmp_path, clock=clock
    ) as k:
        assert await k.logs.tick() == 1
        assert [(s, st) for s, _, st in await incidents(k)] == [("web", "triggered")]
        for _ in range(3):  # still matching at each interval: the same incident, no new one
            clock.advance(10)
            assert await k.logs.tick() == 1
        assert len(await incidents(k)) == 1
        clock.advance(60)  # the errors left the 1m window: first clear run
        await k.logs.tick()
        assert (await incidents(k))[0][2] == "triggered"
        clock.advance(10)  # second clear run: resolved
        await k.logs.tick()
        assert (await incidents(k))[0][2] == "resolved"
        metrics = k.metrics.exposition().decode()
        assert 'koban_log_rule_runs_total{outcome="ok"} 6.0' in metrics
        assert "koban_log_rule_lag_seconds_count 6.0" in metrics
        assert "koban_log_rule_query_seconds_count 6.0" in metrics


async def test_a_rule_runs_once_per_interval_whichever_instance_looks(opensearch_url, db_url, tmp_path):
    index = await make_index(opensearch_url, [])
    rule = {
        "id": "quiet",
        "cluster": "local",
        "service": "web",
        "type": "any",
        "index": index,
        "interval": "1m",
    }
    clock = FakeClock(NOW.timestamp())
    async with running_system(
        db_url, with_logs(opensearch_url, log_rules=[rule]), tmp_path, clock=clock
    ) as k:
        other = LogWork(dataclasses.replace(k.deps, owner="other-instance"))
        assert await k.logs.tick() == 1
        assert await other.tick() == 0  # due again only a minute later
        clock.advance(30)
        assert await other.tick() == 0
        clock.advance(30)
        assert await other.tick() == 1
        assert await k.logs.tick() == 0
        async with k.db.read() as conn:
            row = (await conn.execute(sa.select(log_rule_runs))).one()
        assert row.due_at == NOW.timestamp() + 120 and row.error is None and row.lease_owner is None


async def test_a_failing_rule_shows_why_on_its_run_row(db_url, tmp_path):
    rule = {"id": "r", "cluster": "local", "service": "web", "type": "any", "index": "logs-*"}
    clock = FakeClock(NOW.timestamp())
    async with running_system(
        db_url, with_logs("http://127.0.0.1:9", log_rules=[rule]), tmp_path, clock=clock
    ) as k:
        await k.logs.tick()
        async with k.db.read() as conn:
            row = (await conn.execute(sa.select(log_rule_runs))).one()
        assert row.error.startswith("cluster unreachable") and await incidents(k) == []


def digest(url: str, webhook: str, index: str, **kw: Any) -> dict[str, Any]:
    return {
        "channels": [
            {"id": "log", "type": "console"},
            {"id": "team-slack", "type": "slack", "webhook_url": webhook},
        ],
        "digests": [
            {
                "id": "daily", "cluster": "local", "index": index, "service": "web",
                "schedule": {"cron": "0 9 * * *", "timezone": "Asia/Tokyo"}, "channels": ["team-slack"],
            } | kw
        ],
    }  # fmt: skip


async def test_a_digest_missed_while_down_is_posted_once_at_start_by_one_of_two_instances(
    opensearch_url, db_url, tmp_path
):
    # 09:00 Tokyo was 00:00 UTC; koban comes back at 03:00 UTC.
    index = await make_index(opensearch_url, [doc(NOW - timedelta(days=1, hours=10), "ERROR", "boom 1")])
    clock = FakeClock(datetime(2027, 3, 10, 3, 0, tzinfo=UTC).timestamp())
    async with FakeSlack() as slack:
        cfg = with_logs(opensearch_url, **digest(opensearch_url, slack.webhook_url(), index))
        async with running_system(db_url, cfg, tmp_path, clock=clock) as k:
            other = LogWork(dataclasses.replace(k.deps, owner="other-instance"))
            assert await k.logs.tick() == 1
            assert await other.tick() == 0
            clock.advance(3600)
            assert await other.tick() == 0 and await k.logs.tick() == 0
            assert len(slack.messages) == 1 and "1 entries" in slack.messages[0]["text"]
            async with k.db.read() as conn:
                run = (await conn.execute(sa.select(digest_runs))).one()
            assert run.status == "posted"
            assert run.window_start == datetime(2027, 3, 8, 15, 0, tzinfo=UTC).timestamp()
            assert await incidents(k) == []


async def test_a_digest_whose_cluster_is_down_fails_visibly_and_alerts_its_service(db_url, tmp_path):
    clock = FakeClock(datetime(2027, 3, 10, 0, 5, tzinfo=UTC).timestamp())
    async with FakeSlack() as slack:
        cfg = with_logs("http://127.0.0.1:9", **digest("", slack.webhook_url(), "logs-*"))
        async with running_system(db_url, cfg, tmp_path, clock=clock) as k:
            assert await k.logs.tick() == 1
            assert slack.messages == []
            async with k.db.read() as conn:
                run = (await conn.execute(sa.select(digest_runs))).one()
            assert run.status == "failed" and "unreachable" in run.error
            assert await incidents(k) == [("web", "digest:daily", "triggered")]
