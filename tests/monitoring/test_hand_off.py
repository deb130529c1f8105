"""A probe that opens an incident hands its first pages to this process's worker in the same
transaction (``monitoring/alerts.py`` through ``Worker.hand_off``): no wake-up, no claim of its own."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from koban.core.clock import SystemClock
from koban.db import schema as t
from koban.fakes.webhook_receiver import RecordingReceiver
from koban.monitoring.prober import Prober
from koban.probes.result import ProbeResult
from tests.monitoring.support import config_with, http_monitor
from tests.paging.test_hand_off import ready, settle
from tests.support.system import running_system

TARGET = "http://127.0.0.1:9/ok"


def probed(success: bool) -> ProbeResult:
    return ProbeResult(
        kind="http",
        target=TARGET,
        success=success,
        started_at=datetime.now(UTC),
        duration=0.001,
        error="" if success else "connection refused",
        status_code=200 if success else 0,
        monitor_id="web-health",
        location="local",
    )


async def test_a_down_monitor_s_first_page_is_claimed_in_the_incident_transaction(db_url, tmp_path):
    async with RecordingReceiver("s3cret") as recv:
        cfg = config_with(
            http_monitor(TARGET),
            channels=[{"id": "hook", "type": "webhook", "url": recv.url, "secret": "s3cret"}],
            steps=[{"notify": [{"channel": "hook"}], "escalate_after": "5m"}],
        )
        # A worker that would only poll every 30 s: a page claimed at once was handed off.
        opts = {"worker": True, "clock": SystemClock(), "poll_seconds": 30}
        async with running_system(db_url, cfg, tmp_path, **opts) as k:
            await ready(k)
            prober = Prober(k.deps, "local")
            await prober.store.load()
            await prober.sync()
            await prober._store([probed(True)])
            wakes: list[None] = []
            k.deps.wake = lambda: wakes.append(None)
            await prober._store([probed(False)])  # as the runner hands over an urgent result
            d = t.deliveries.c
            async with k.db.read() as conn:
                rows = (await conn.execute(sa.select(d.state, d.lease_owner).where(d.kind == "page"))).all()
            assert [tuple(r) for r in rows] == [("sending", k.owner)]
            assert wakes == []  # nothing left for the worker to find
            await settle(k)
        assert len(recv.deliveries) == 1 and recv.state.duplicates == 0
