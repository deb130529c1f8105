"""koban with Debian's Alertmanager driven by ``amtool`` (issue 17, item 10).

``amtool alert add --end=T`` sends no ``startsAt``; Alertmanager then sets ``startsAt`` to ``T``,
in the future. koban must not let that clock keep the incident open: the later resolve (``--end``
in the past) closes it, and nothing the sender says is silently dropped.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from koban.core.clock import SystemClock
from tests.ingest import support as s
from tests.interop.conftest import serve_koban
from tests.interop.test_prometheus_alertmanager import wait_for_incident
from tests.support.admin import provision
from tests.support.peers import peer_binary, peers_required, run_alertmanager
from tests.support.system import running_system


def amtool_binary() -> str:
    found = shutil.which("amtool") or shutil.which("prometheus-alertmanager-amtool")
    if found is None:
        if peers_required():
            pytest.fail("KOBAN_REQUIRE_PEERS=1 but amtool is not installed", pytrace=False)
        pytest.skip("amtool not installed; run `make peers` (scripts/install-peers.sh)")
    return found


async def amtool(binary: str, url: str, *args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        binary,
        f"--alertmanager.url={url}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode(errors="replace")


def rfc3339(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_an_alert_added_with_a_future_end_is_resolved_by_amtool(db_url, tmp_path):
    tool, am_bin = amtool_binary(), peer_binary("alertmanager")
    async with (
        running_system(db_url, s.edge_config(), tmp_path, clock=SystemClock(), worker=True) as k,
        serve_koban(k) as koban,
        run_alertmanager(
            tmp_path, webhook_url=f"{koban}/api/v1/ingest/{s.key_for('alertmanager')}", binary=am_bin
        ) as am,
    ):
        labels = ("alertname=DiskFull", "severity=critical", "instance=db-1")
        await amtool(
            tool, am.url, "alert", "add", *labels, f"--end={rfc3339(datetime.now(UTC) + timedelta(hours=1))}"
        )
        token = await provision(k.db, k.clock.now())
        opened = await wait_for_incident(koban, token, "triggered")
        # The resolve's endsAt (now - 1 s, cut to whole seconds) must fall after the trigger's receipt.
        await asyncio.sleep(3)
        await amtool(
            tool,
            am.url,
            "alert",
            "add",
            *labels,
            f"--end={rfc3339(datetime.now(UTC) - timedelta(seconds=1))}",
        )
        resolved = await wait_for_incident(koban, token, "resolved")
        assert resolved["id"] == opened["id"]
        async with httpx.AsyncClient(base_url=koban, headers={"Authorization": f"Bearer {token}"}) as c:
            got = (await c.get(f"/api/v1/incidents/{opened['id']}")).json()
        kinds = [e["kind"] for e in got.get("timeline", [])]
        assert "resolved" in kinds and "alert.ignored" not in kinds, kinds
