"""The log pages, in process: digests and rules with their latest runs, a digest's runs paged by
keyset, one run's numbers and posts, a rule's keys; "Preview" and "Run now" for managers only, a
window run once (the 409 in words), log text always escaped, and the pages in Japanese.

Runs are rows written here (their numbers as ``logs/summary.py`` stores them); the OpenSearch test
makes one from real logs through the page's button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from koban.auth.permissions import Role
from koban.core.clock import FakeClock
from koban.db.schema_logs import digest_posts, digest_runs, log_rule_runs, log_rule_state
from koban.fakes.slack.server import FakeSlack
from tests.logs.factories import doc, make_index
from tests.logs.test_worker_opensearch import digest, with_logs
from tests.support.factories import make_config
from tests.support.system import client, running_system
from tests.web.pages_support import add_person, browser, form_csrf, sign_in

AFTER_FIRE = datetime(2027, 3, 10, 0, 5, tzinfo=UTC)  # 09:05 in Tokyo: yesterday's digest is due
DAY = 86400.0
HOSTILE = '<script>alert("x")</script>'
NOWHERE = "http://127.0.0.1:9"  # a cluster that never answers


def config(cluster_url: str = NOWHERE, **digest_fields: Any) -> Any:
    data = make_config().model_dump(mode="json")
    data["log_clusters"] = [{"id": "local", "url": cluster_url, "dashboards_url": "http://dash.example"}]
    data["digests"] = [
        {
            "id": "daily", "name": "Daily <errors>", "cluster": "local", "index": "logs-*",
            "schedule": {"cron": "0 9 * * *", "timezone": "Asia/Tokyo"}, "channels": ["log"],
        } | digest_fields
    ]  # fmt: skip
    data["log_rules"] = [
        {"id": "pay-errors", "cluster": "local", "service": "web", "type": "frequency", "index": "app-*",
         "query_key": "service", "num_events": 3, "timeframe": "1m"},
        {"id": "quiet", "cluster": "local", "service": "web", "type": "flatline", "index": "app-*"},
    ]  # fmt: skip
    return type(make_config()).model_validate(data)


def summary(link: str = "http://dash.example/app/discover#/?_g=x") -> dict[str, Any]:
    return {
        "window_start": "2027-03-09T00:00:00+09:00",
        "window_end": "2027-03-10T00:00:00+09:00",
        "total": 40,
        "levels": {"ERROR": 30, "WARNING": 10},
        "per_hour": 1.67,
        "peak_hour": "2027-03-09T14:00:00+09:00",
        "peak_count": 12,
        "patterns": [
            {
                "pattern": f"payment <N> failed {HOSTILE}",
                "count": 25,
                "first_seen": "2027-03-09T01:02:03+09:00",
                "last_seen": "2027-03-09T23:04:05+09:00",
                "example": 'payment 7 failed "><img src=x onerror=alert(1)>',
            }
        ],
        "new_patterns": ["<b>brand new</b> <N>"],
        "movers": [{"pattern": "timeout <N>", "count": 9, "median": 2.0, "change": 7.0}],
        "link": link,
    }


async def add_run(k: Any, start: float, status: str = "posted", **values: Any) -> int:
    row = {"digest_id": "daily", "window_start": start, "window_end": start + DAY, "status": status}
    async with k.db.begin() as conn:
        res = await conn.execute(sa.insert(digest_runs).values(**row, started_at=start + DAY + 60, **values))
        return int(res.inserted_primary_key[0])


async def add_post(k: Any, run: int, channel: str, state: str, **values: Any) -> None:
    async with k.db.begin() as conn:
        await conn.execute(
            sa.insert(digest_posts).values(
                key=f"daily:{run}:{channel}",
                run_id=run,
                digest_id="daily",
                channel_id=channel,
                channel_type="slack",
                payload={},
                state=state,
                created_at=1.0,
                **values,
            )  # fmt: skip
        )


async def add_rule_state(k: Any) -> None:
    now = AFTER_FIRE.timestamp()
    async with k.db.begin() as conn:
        await conn.execute(
            sa.insert(log_rule_runs),
            [
                {"id": "pay-errors", "due_at": now + 60, "last_run": now, "last_lag": 1.25,
                 "last_query_seconds": 0.042, "error": None},
                {"id": "quiet", "due_at": now + 60, "last_run": now, "last_lag": 0.5,
                 "last_query_seconds": 0.01, "error": f"cluster unreachable {HOSTILE}"},
            ],
        )  # fmt: skip
        await conn.execute(
            sa.insert(log_rule_state),
            [
                {"rule_id": "pay-errors", "key_value": f"shop{HOSTILE}", "firing": True, "clear_runs": 0,
                 "last_run": now, "last_count": 5.0},
                {"rule_id": "pay-errors", "key_value": "pay", "firing": False, "clear_runs": 2,
                 "last_run": now, "last_count": 0.0},
            ],
        )  # fmt: skip


def assert_escaped(html: str) -> None:
    assert HOSTILE not in html and "<img src=x" not in html and "<b>brand new" not in html


async def test_the_logs_page_lists_digests_and_rules_with_their_latest_runs(db_url, tmp_path):
    async with running_system(db_url, config(), tmp_path, clock=FakeClock(AFTER_FIRE.timestamp())) as k:
        start = datetime(2027, 3, 8, 15, tzinfo=UTC).timestamp()
        await add_run(k, start - DAY, "posted")
        await add_run(k, start, "failed", error=f"cluster unreachable {HOSTILE}")
        await add_rule_state(k)
        await add_person(k, "alice", Role.VIEWER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            page = await b.get("/logs")
            assert page.status_code == 200
            html = page.text
            assert '<a href="/logs" aria-current="page">Logs</a>' in html
            assert "Daily &lt;errors&gt;" in html and "<code>0 9 * * *</code>" in html
            assert "Asia/Tokyo" in html and "Yesterday" in html and "run-failed" in html
            assert "cluster unreachable &lt;script&gt;" in html
            assert 'href="/logs/rules/pay-errors"' in html and "<code>frequency</code>" in html
            assert "1.2 s" in html and "42 ms" in html  # lag and query time
            assert '<span class="badge down">1</span>' in html  # one key firing
            assert_escaped(html)


async def test_a_run_page_shows_its_numbers_and_each_channels_post(db_url, tmp_path):
    async with running_system(db_url, config(), tmp_path, clock=FakeClock(AFTER_FIRE.timestamp())) as k:
        run = await add_run(k, datetime(2027, 3, 8, 15, tzinfo=UTC).timestamp(), "posting", summary=summary())
        await add_post(k, run, "team-slack", "sent", attempts=1, sent_at=AFTER_FIRE.timestamp())
        retry = {"attempts": 2, "error": f"HTTP 503 {HOSTILE}", "due_at": AFTER_FIRE.timestamp()}
        await add_post(k, run, "ops-hook", "pending", **retry)
        await add_person(k, "alice", Role.VIEWER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            page = await b.get(f"/logs/digests/daily/runs/{run}")
            assert page.status_code == 200
            html = page.text
            assert ">ERROR</td><td>30</td><td>75.0 %" in html and ">40</td>" in html
            assert "1.67" in html and "(12)" in html  # average per hour, the peak hour's count
            assert "payment &lt;N&gt; failed &lt;script&gt;" in html
            assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html  # the example, as text
            assert "&lt;b&gt;brand new&lt;/b&gt;" in html and "timeout &lt;N&gt;" in html and "+7" in html
            assert 'href="http://dash.example/app/discover#/?_g=x"' in html
            assert "team-slack" in html and "ops-hook" in html and "HTTP 503 &lt;script&gt;" in html
            assert "Mar 10, 2027, 12:05:00" in html  # the next try, in the viewer's zone (UTC)
            assert "Preview" not in html  # a viewer has no buttons
            assert_escaped(html)
            assert (await b.get("/logs/digests/daily/runs/99999")).status_code == 404
            assert (await b.get("/logs/digests/daily/runs/99999999999999")).status_code == 404
            assert (await b.get(f"/logs/digests/other/runs/{run}")).status_code == 404


async def test_a_discover_link_that_is_not_http_is_not_a_link(db_url, tmp_path):
    async with running_system(db_url, config(), tmp_path, clock=FakeClock(AFTER_FIRE.timestamp())) as k:
        run = await add_run(k, 1_000_000.0, summary=summary(link="javascript:alert(1)"))
        await add_person(k, "alice", Role.VIEWER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            html = (await b.get(f"/logs/digests/daily/runs/{run}")).text
            assert "javascript:" not in html and "Open in Discover" not in html


async def test_each_count_links_to_discover_for_its_row_when_the_link_is_http(db_url, tmp_path):
    links = {"level:ERROR": "http://dash.example/level-error", "peak": "https://dash.example/peak",
             f"pattern:payment <N> failed {HOSTILE}": "javascript:alert(2)",
             "pattern:timeout <N>": "http://dash.example/timeout?a=1&b=2"}  # fmt: skip
    async with running_system(db_url, config(), tmp_path, clock=FakeClock(AFTER_FIRE.timestamp())) as k:
        run = await add_run(k, 1_000_000.0, summary=summary() | {"links": links})
        await add_person(k, "alice", Role.VIEWER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            html = (await b.get(f"/logs/digests/daily/runs/{run}")).text
    assert '<a href="http://dash.example/level-error" rel="noopener noreferrer">30</a>' in html
    assert '<a href="https://dash.example/peak" rel="noopener noreferrer">12</a>' in html
    assert 'href="http://dash.example/timeout?a=1&amp;b=2"' in html  # the mover's count
    assert "javascript:" not in html and "<td>25</td>" in html  # not http: the count alone


async def test_a_digests_runs_are_paged_newest_first_by_keyset(db_url, tmp_path):
    async with running_system(db_url, config(), tmp_path, clock=FakeClock(AFTER_FIRE.timestamp())) as k:
        first = datetime(2027, 1, 1, 15, tzinfo=UTC).timestamp()
        ids = [await add_run(k, first + i * DAY) for i in range(65)]  # ids[-1]: the newest window
        await add_person(k, "alice", Role.VIEWER)
        async with browser(k) as b:
            await sign_in(b, "alice")

            def shown(html: str) -> list[int]:
                import re

                return [int(n) for n in re.findall(r'<tr id="run-(\d+)"', html)]

            page1 = (await b.get("/logs/digests/daily")).text
            assert shown(page1) == ids[::-1][:30] and 'rel="prev"' not in page1
            older = page1.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
            page2 = (await b.get(older)).text
            assert shown(page2) == ids[::-1][30:60] and 'rel="prev"' in page2
            page3 = (await b.get(f"/logs/digests/daily?before={first + 5 * DAY!r}")).text
            assert shown(page3) == ids[4::-1] and 'rel="next"' not in page3
            newer = page2.split('rel="prev"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
            assert shown((await b.get(newer)).text) == ids[::-1][:30]
            async with client(k) as api:  # the REST API pages the same way
                shown_api = await api.get(
                    "/api/v1/digests/daily/runs", params={"limit": 3, "before": first + 5 * DAY}
                )
                assert [r["id"] for r in shown_api.json()["runs"]] == ids[4:1:-1]
            assert (await b.get("/logs/digests/daily?before=soon")).status_code == 422
            assert (await b.get("/logs/digests/daily?after=nan")).status_code == 422
            assert (await b.get("/logs/digests/nope")).status_code == 404
            assert (await b.get("/logs/rules/nope")).status_code == 404


async def test_run_now_and_preview_are_for_managers_and_a_window_runs_once(db_url, tmp_path):
    async with running_system(db_url, config(), tmp_path, clock=FakeClock(AFTER_FIRE.timestamp())) as k:
        await add_person(k, "alice", Role.VIEWER)
        await add_person(k, "bob", Role.MANAGER)
        async with browser(k) as viewer:
            await sign_in(viewer, "alice")
            page = await viewer.get("/logs/digests/daily")
            assert "Run now" not in page.text
            refused = await viewer.post("/logs/digests/daily/run", data={"csrf": form_csrf(page.text)})
            assert refused.status_code == 403
        async with browser(k) as b:
            await sign_in(b, "bob")
            page = await b.get("/logs/digests/daily")
            assert "Run now" in page.text and "Preview" in page.text
            csrf = form_csrf(page.text)
            assert (await b.post("/logs/digests/daily/run", data={})).status_code == 403  # no CSRF token
            preview = await b.post("/logs/digests/daily/preview", data={"csrf": csrf})
            assert preview.status_code == 424 and "did not answer the digest&#39;s query" in preview.text
            ran = await b.post("/logs/digests/daily/run", data={"csrf": csrf})
            assert ran.status_code == 303, ran.text
            run_page = await b.get(ran.headers["location"])
            assert run_page.status_code == 200 and "run-failed" in run_page.text  # the cluster is down
            assert "This run has no numbers" in run_page.text
            again = await b.post("/logs/digests/daily/run", data={"csrf": csrf})
            assert again.status_code == 409 and "already has its run" in again.text
            assert (await b.post("/logs/digests/nope/run", data={"csrf": csrf})).status_code == 404
        async with client(k) as api:
            audit = (await api.get("/api/v1/audit", params={"limit": 10})).json()["entries"]
            runs = [e for e in audit if e["action"] == "digests.run"]
            assert [(e["person"], e["via"]) for e in runs] == [("bob", "ui")]


async def test_a_disabled_digest_says_it_does_not_run(db_url, tmp_path):
    async with running_system(
        db_url, config(enabled=False), tmp_path, clock=FakeClock(AFTER_FIRE.timestamp())
    ) as k:
        await add_person(k, "bob", Role.MANAGER)
        async with browser(k) as b:
            await sign_in(b, "bob")
            page = await b.get("/logs/digests/daily")
            ran = await b.post("/logs/digests/daily/run", data={"csrf": form_csrf(page.text)})
            assert ran.status_code == 409 and "This digest is disabled" in ran.text


async def test_a_rule_page_shows_its_last_run_and_its_keys_firing_first(db_url, tmp_path):
    async with running_system(db_url, config(), tmp_path, clock=FakeClock(AFTER_FIRE.timestamp())) as k:
        await add_rule_state(k)
        await add_person(k, "alice", Role.VIEWER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            html = (await b.get("/logs/rules/pay-errors")).text
            assert html.index("shop&lt;script&gt;") < html.index("<code>pay</code>")  # firing first
            assert "firing" in html and "clear" in html and "42 ms" in html
            assert_escaped(html)
            quiet = (await b.get("/logs/rules/quiet")).text
            assert "The last run failed: cluster unreachable &lt;script&gt;" in quiet
            assert "No key has matched yet." in quiet
            assert_escaped(quiet)


async def test_the_logs_pages_speak_japanese(db_url, tmp_path):
    cfg = config()
    data = cfg.model_dump(mode="json")
    data["people"][0]["language"] = "ja"
    async with running_system(
        db_url, type(cfg).model_validate(data), tmp_path, clock=FakeClock(AFTER_FIRE.timestamp())
    ) as k:
        run = await add_run(k, 1_000_000.0, summary=summary())
        await add_rule_state(k)
        await add_person(k, "alice", Role.MANAGER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            overview = (await b.get("/logs")).text
            assert "ログ" in overview and "ダイジェスト" in overview and "前日" in overview
            assert "今すぐ実行" in (await b.get("/logs/digests/daily")).text
            assert "パターン" in (await b.get(f"/logs/digests/daily/runs/{run}")).text
            assert "キーごとの状態" in (await b.get("/logs/rules/pay-errors")).text


async def test_run_now_on_real_logs_shows_the_runs_numbers(opensearch_url, db_url, tmp_path):
    index = await make_index(
        opensearch_url, [doc(AFTER_FIRE - timedelta(hours=12 + i), "ERROR", f"boom {i}") for i in range(3)]
    )
    async with FakeSlack() as slack:
        cfg = with_logs(opensearch_url, **digest(opensearch_url, slack.webhook_url(), index))
        async with running_system(db_url, cfg, tmp_path, clock=FakeClock(AFTER_FIRE.timestamp())) as k:
            await add_person(k, "alice", Role.MANAGER)
            async with browser(k) as b:
                await sign_in(b, "alice")
                page = await b.get("/logs/digests/daily")
                previewed = await b.post("/logs/digests/daily/preview", data={"csrf": form_csrf(page.text)})
                assert previewed.status_code == 200 and "Preview (not stored, not posted)" in previewed.text
                assert "boom &lt;N&gt;" in previewed.text and "No runs yet." in previewed.text
                assert slack.messages == []
                ran = await b.post("/logs/digests/daily/run", data={"csrf": form_csrf(page.text)})
                assert ran.status_code == 303, ran.text
                html = (await b.get(ran.headers["location"])).text
                assert "run-posted" in html and "boom &lt;N&gt;" in html and ">3</td>" in html
                assert "team-slack" in html and "sent" in html and len(slack.messages) == 1
