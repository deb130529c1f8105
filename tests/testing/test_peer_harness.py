"""The peer harness itself: each real peer starts, answers, stops, and they talk to each other."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from koban.testing.process import start_peer
from tests.support import peers as support
from tests.support.peers import (
    AlertmanagerTarget,
    PeerStartError,
    blackbox_scrape_config,
    peer_binary,
    run_alertmanager,
    run_blackbox,
    run_nginx,
    run_prometheus,
)
from tests.support.recorder import Recorder

pytestmark = pytest.mark.peers

RUNNERS = {
    "alertmanager": run_alertmanager,
    "prometheus": run_prometheus,
    "blackbox": run_blackbox,
    "nginx": run_nginx,
}


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.text()


async def post_json(url: str, body: object) -> int:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as resp:
        return resp.status


def gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("name", sorted(RUNNERS))
async def test_peer_starts_ready_and_leaves_no_process_behind(name, tmp_path):
    binary = peer_binary(name)
    async with RUNNERS[name](tmp_path, binary=binary) as peer:
        status, _ = await get(peer.url + "/-/ready")
        assert status == 200
        pid = peer.process.pid
    assert not peer.running()
    assert gone(pid), f"{name} left processes in group {pid}"


async def test_nginx_serves_the_health_and_tiny_files(tmp_path):
    async with run_nginx(tmp_path, binary=peer_binary("nginx")) as nginx:
        assert await get(nginx.url + "/health") == (200, "ok\n")
        assert await get(nginx.url + "/tiny") == (200, "x")


async def test_peer_that_exits_early_reports_its_log(tmp_path):
    script = "import sys; print('boom: bad config'); sys.exit(3)"
    with pytest.raises(PeerStartError, match="boom: bad config"):
        await start_peer("broken", lambda port: [sys.executable, "-c", script], tmp_path, ready_within=10)


async def test_peer_ignoring_sigterm_is_killed_after_the_timeout(tmp_path):
    server = (
        "import signal, sys, http.server as h; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        "h.HTTPServer(('127.0.0.1', int(sys.argv[1])), h.SimpleHTTPRequestHandler).serve_forever()"
    )
    (tmp_path / "-").mkdir()
    (tmp_path / "-" / "ready").write_text("ok")
    peer = await start_peer("stubborn", lambda port: [sys.executable, "-c", server, str(port)], tmp_path)
    assert await peer.stop(grace=0.3) == -9


def test_missing_peer_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.setattr(support, "find_binary", lambda name: None)
    monkeypatch.delenv("KOBAN_REQUIRE_PEERS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="install-peers"):
        peer_binary("alertmanager")
    monkeypatch.setenv("KOBAN_REQUIRE_PEERS", "1")
    with pytest.raises(pytest.fail.Exception, match="KOBAN_REQUIRE_PEERS=1"):
        peer_binary("alertmanager")


async def test_alertmanager_sends_firing_then_resolved_webhook(tmp_path, recorder: Recorder):
    alert = {"labels": {"alertname": "HarnessCheck", "severity": "page"}, "annotations": {"summary": "hi"}}
    async with run_alertmanager(
        tmp_path, webhook_url=recorder.url + "/hook", binary=peer_binary("alertmanager")
    ) as am:
        assert await post_json(am.url + "/api/v2/alerts", [alert]) == 200
        firing = await recorder.wait_for(lambda r: r.json["status"] == "firing", timeout=10)
        assert firing.path == "/hook"
        assert firing.json["version"] == "4"
        assert firing.json["alerts"][0]["labels"]["alertname"] == "HarnessCheck"

        ended = datetime.now(UTC).isoformat()
        assert await post_json(am.url + "/api/v2/alerts", [{**alert, "endsAt": ended}]) == 200
        resolved = await recorder.wait_for(lambda r: r.json["status"] == "resolved", timeout=10)
        assert resolved.json["groupKey"] == firing.json["groupKey"]


async def test_probe_failure_fires_rule_through_alertmanager(tmp_path: Path, recorder: Recorder):
    rule = {
        "alert": "ProbeFailed",
        "expr": "probe_success == 0",
        "for": "2s",
        "labels": {"severity": "page"},
    }
    async with (
        run_nginx(tmp_path, binary=peer_binary("nginx")) as nginx,
        run_blackbox(tmp_path, binary=peer_binary("blackbox")) as blackbox,
        run_alertmanager(
            tmp_path, webhook_url=recorder.url + "/hook", binary=peer_binary("alertmanager")
        ) as am,
        run_prometheus(
            tmp_path,
            rules=[{"name": "probes", "rules": [rule]}],
            alertmanagers=[am.url],
            scrape_configs=[
                blackbox_scrape_config(blackbox_address=blackbox.address, targets=[nginx.url + "/health"])
            ],
            binary=peer_binary("prometheus"),
        ) as prom,
    ):
        await wait_for_probe_success(prom.url, "1", within=15)
        await nginx.stop()
        fired = await recorder.wait_for(
            lambda r: r.json["status"] == "firing" and r.json["commonLabels"]["alertname"] == "ProbeFailed",
            timeout=20,
        )
        assert fired.json["alerts"][0]["labels"]["instance"] == nginx.url + "/health"


async def wait_for_probe_success(prom_url: str, expected: str, within: float) -> None:
    """Poll Prometheus' instant query until the only probe_success sample equals ``expected``."""
    values: list[str] = []
    try:
        async with asyncio.timeout(within):
            while values != [expected]:
                await asyncio.sleep(0.2)
                status, text = await get(prom_url + "/api/v1/query?query=probe_success")
                if status == 200:
                    values = [r["value"][1] for r in json.loads(text)["data"]["result"]]
    except TimeoutError:
        raise AssertionError(
            f"probe_success stayed {values}, wanted [{expected!r}] within {within}s"
        ) from None


async def test_prometheus_posts_alerts_to_any_v2_endpoint_with_prefix_and_bearer(
    tmp_path, recorder: Recorder
):
    # The wiring the lead uses for koban: Prometheus' alertmanager target pointed at koban's base URL.
    rule = {"alert": "AlwaysFiring", "expr": "vector(1)", "labels": {"severity": "info"}}
    async with run_prometheus(
        tmp_path,
        rules=[{"name": "always", "rules": [rule]}],
        alertmanagers=[AlertmanagerTarget(recorder.url + "/koban", bearer_token="k3y")],
        resend_delay=1,  # the first send precedes alertmanager discovery and is dropped
        binary=peer_binary("prometheus"),
    ):
        hit = await recorder.wait_for(lambda r: r.path == "/koban/api/v2/alerts", timeout=15)
    assert hit.method == "POST"
    assert hit.headers["Authorization"] == "Bearer k3y"
    assert [a["labels"]["alertname"] for a in hit.json] == ["AlwaysFiring"]
