"""REST for logs: digests and rules are config objects (secrets masked), a digest's runs keep its
numbers, a run on demand posts the due window once and is audited, a preview posts nothing, and a
rule's status shows its last run and its keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from koban.core.clock import FakeClock
from koban.fakes.slack.server import FakeSlack
from tests.logs.factories import doc, make_index
from tests.logs.test_worker_opensearch import digest, with_logs
from tests.support.system import client, running_system

AFTER_FIRE = datetime(2027, 3, 10, 0, 5, tzinfo=UTC)  # 09:05 in Tokyo


async def test_a_digest_run_on_demand_posts_once_keeps_its_numbers_and_is_audited(
    opensearch_url, db_url, tmp_path
):
    index = await make_index(opensearch_url, [doc(AFTER_FIRE - timedelta(hours=12), "ERROR", "boom 7")])
    clock = FakeClock(AFTER_FIRE.timestamp())
    async with FakeSlack() as slack:
        cfg = with_logs(opensearch_url, **digest(opensearch_url, slack.webhook_url(), index))
        async with running_system(db_url, cfg, tmp_path, clock=clock) as k, client(k) as api:
            shown = await api.get("/api/v1/digests/daily")
            assert shown.status_code == 200 and shown.json()["schedule"]["timezone"] == "Asia/Tokyo"
            previewed = await api.post("/api/v1/digests/daily/preview")
            assert previewed.status_code == 200, previewed.text
            assert previewed.json()["summary"]["total"] == 1 and slack.messages == []
            ran = await api.post("/api/v1/digests/daily/run")
            assert ran.status_code == 200, ran.text
            run = ran.json()
            assert run["status"] == "posted" and run["summary"]["patterns"][0]["pattern"] == "boom <N>"
            assert len(slack.messages) == 1
            again = await api.post("/api/v1/digests/daily/run")
            assert again.status_code == 409 and len(slack.messages) == 1
            listed = (await api.get("/api/v1/digests/daily/runs")).json()["runs"]
            assert [r["id"] for r in listed] == [run["id"]]
            one = await api.get(f"/api/v1/digests/daily/runs/{run['id']}")
            assert one.json()["summary"]["total"] == 1
            assert (await api.get("/api/v1/digests/daily/runs/999")).status_code == 404
            audit = (await api.get("/api/v1/audit", params={"limit": 10})).json()["entries"]
            assert [e["action"] for e in audit if e["action"].startswith("digests.")] == ["digests.run"]


async def test_clusters_hide_their_password_and_a_rule_shows_its_last_run(db_url, tmp_path):
    rule = {"id": "r", "cluster": "local", "service": "web", "type": "any", "index": "logs-*"}
    cfg = with_logs("http://127.0.0.1:9", log_rules=[rule])
    data = cfg.model_dump(mode="json")
    data["log_clusters"][0]["auth"] = {"type": "basic", "username": "koban", "password": "s3cret"}
    cfg = type(cfg).model_validate(data)
    async with running_system(db_url, cfg, tmp_path, clock=FakeClock(AFTER_FIRE.timestamp())) as k:
        async with client(k) as api:
            cluster = (await api.get("/api/v1/log_clusters/local")).json()
            assert cluster["auth"]["username"] == "koban" and "s3cret" not in str(cluster)
            await k.logs.tick()
            status = (await api.get("/api/v1/log_rules/r/status")).json()
            assert status["error"].startswith("cluster unreachable") and status["keys"] == []
            assert (await api.get("/api/v1/log_rules/nope/status")).status_code == 404
            preview = await api.post("/api/v1/digests/nope/preview")
            assert preview.status_code == 404
        # The cluster's password is stored sealed, and opened for the worker.
        assert k.catalog.log_clusters["local"].auth.password == "s3cret"
