"""Seed 003's digest against a real OpenSearch: yesterday's FATAL/WARNING entries in Asia/Tokyo,
posted to the Slack fake once per window; the expected numbers are computed here, from the data."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from koban.fakes.slack.server import FakeSlack
from koban.logs.digests import get_run, run_digest
from tests.logs.factories import config, doc, make_index

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = datetime(2026, 3, 10, tzinfo=TOKYO)
FIRE = datetime(2026, 3, 11, 9, 0, 30, tzinfo=TOKYO)  # the cron below fired 30 s ago
TEMPLATES = {
    "FATAL": ("payment {n} failed for user {m}", "payment <N> failed for user <N>"),
    "WARNING": ("timeout after {n}ms calling 10.0.{m}.5", "timeout after <N> calling <IP>"),
    "INFO": ("request {n} served", "request <N> served"),
}


def generated() -> list[dict]:
    docs = []
    for day_offset in (-1, 0, 1):  # the day before and after must not count
        for hour in range(24):
            start = DAY + timedelta(days=day_offset, hours=hour)
            for level, per_hour in (("FATAL", hour % 5 + 1), ("WARNING", hour % 3), ("INFO", 2)):
                for i in range(per_hour):
                    text = TEMPLATES[level][0].format(n=100 + i * 7 + hour, m=i)
                    docs.append(doc(start + timedelta(minutes=i * 7), level, text))
    docs.append(doc(DAY + timedelta(days=1), "FATAL", "payment 1 failed for user 2"))  # next day's 00:00
    return docs


def expected(docs: list[dict]) -> dict:
    inside = [
        d
        for d in docs
        if datetime.fromisoformat(d["@timestamp"]).astimezone(TOKYO).date() == DAY.date()
        and d["level"] in ("FATAL", "WARNING")
    ]
    per_hour = Counter(datetime.fromisoformat(d["@timestamp"]).astimezone(TOKYO).hour for d in inside)
    peak = max(sorted(per_hour), key=lambda h: per_hour[h])
    patterns = Counter(TEMPLATES[d["level"]][1] for d in inside)
    return {
        "total": len(inside),
        "levels": dict(Counter(d["level"] for d in inside)),
        "per_hour": round(len(inside) / 24, 2),
        "peak": (peak, per_hour[peak]),
        "patterns": patterns,
    }


def digest_config(url: str, index: str, webhook: str):
    return config(
        url,
        channels=[{"id": "team-slack", "type": "slack", "webhook_url": webhook}],
        digests=[
            {
                "id": "daily-errors",
                "name": "shop errors",
                "cluster": "local",
                "index": index,
                "levels": ["FATAL", "WARNING"],
                "schedule": {"cron": "0 9 * * *", "timezone": "Asia/Tokyo"},
                "window": "yesterday",
                "channels": ["team-slack"],
            }
        ],
    )


async def test_yesterday_in_tokyo_is_posted_once_with_the_numbers_of_the_data(opensearch_url, db):
    docs = generated()
    index = await make_index(opensearch_url, docs)
    want = expected(docs)
    async with FakeSlack() as slack:
        cfg = digest_config(opensearch_url, index, slack.webhook_url())
        result = await run_digest(db, cfg, cfg.digests[0], FIRE)
        assert result is not None and result.status == "posted", result
        # Again, and later that day: the window already has its run, nothing is posted twice.
        assert await run_digest(db, cfg, cfg.digests[0], FIRE) is None
        assert await run_digest(db, cfg, cfg.digests[0], FIRE + timedelta(hours=5)) is None
        assert len(slack.messages) == 1
        text = slack.messages[0]["text"]

    run = await get_run(db, "daily-errors", result.run_id)
    assert run is not None and run["status"] == "posted"
    s = run["summary"]
    assert s["total"] == want["total"]
    assert s["levels"] == want["levels"]
    assert s["per_hour"] == want["per_hour"]
    peak_hour, peak_count = want["peak"]
    assert s["peak_hour"] == (DAY + timedelta(hours=peak_hour)).isoformat()
    assert s["peak_count"] == peak_count
    assert {p["pattern"]: p["count"] for p in s["patterns"]} == dict(want["patterns"])
    assert s["window_start"] == DAY.isoformat()
    assert s["window_end"] == (DAY + timedelta(days=1)).isoformat()
    fatal = next(p for p in s["patterns"] if p["pattern"].startswith("payment"))
    assert fatal["first_seen"] == DAY.isoformat()
    assert "2026-03-09T15:00:00Z" in s["link"] and "2026-03-10T15:00:00Z" in s["link"]
    assert f"{want['total']} entries" in text
    assert f"FATAL: {want['levels']['FATAL']} <http://dash.example/app/data-explorer/discover#" in text
    rows = {"level:FATAL", "level:WARNING", "peak"} | {f"pattern:{p}" for p in dict(want["patterns"])}
    assert set(s["links"]) >= rows
    assert "payment &lt;N&gt; failed for user &lt;N&gt;" in text  # Slack's control characters escaped


async def test_a_cluster_that_is_down_gives_a_failed_run_that_is_not_retried(db):
    async with FakeSlack() as slack:
        cfg = digest_config("http://127.0.0.1:9", "logs-*", slack.webhook_url())
        result = await run_digest(db, cfg, cfg.digests[0], FIRE)
        assert result is not None and result.status == "failed"
        assert "unreachable" in (result.error or "")
        assert slack.messages == []
    run = await get_run(db, "daily-errors", result.run_id)
    assert run is not None and run["status"] == "failed" and run["error"]


async def test_a_refused_query_says_why(opensearch_url, db):
    index = await make_index(opensearch_url, [doc(DAY, "FATAL", "x")])
    async with FakeSlack() as slack:
        cfg = digest_config(opensearch_url, index, slack.webhook_url())
        bad = cfg.digests[0].model_copy(update={"message_field": "message", "id": "bad"})
        result = await run_digest(db, cfg, bad, FIRE)
    assert result is not None and result.status == "failed"
    # A text field cannot be aggregated on: the cluster says so, and so does the run.
    assert "400" in (result.error or "") and "message" in (result.error or "")
