"""A ``koban probe`` process that opens an incident wakes ``koban serve``'s worker at once, on SQLite
(a datagram, db/local_wake.py) as on PostgreSQL (NOTIFY): the page does not wait for a poll."""

from __future__ import annotations

import pytest

from koban.fakes.webhook_receiver import RecordingReceiver
from koban.testing.ports import free_port
from tests.support import koban_proc as kp

pytestmark = pytest.mark.slow
POLL_SECONDS = 600  # far beyond the wait below: only a wake-up can page in time


async def test_an_incident_opened_by_a_probe_process_is_paged_without_waiting_for_a_poll(db_url, tmp_path):
    port = free_port()
    nobody_listens = f"http://127.0.0.1:{free_port()}/health"
    async with RecordingReceiver(kp.SECRET) as recv:
        cfg = kp.paging_config(recv.url, escalate_after="1h", steps=1)
        cfg["monitors"] = [{"id": "web-home", "service": "web", "target": nobody_listens, "interval": 1}]
        path = kp.write_config(tmp_path / "koban.yaml", cfg)
        env = kp.koban_env(
            db_url, tmp_path, port=port, config_file=path, probe_enabled="false", poll_seconds=POLL_SECONDS
        )
        serve_log, probe_log = tmp_path / "serve.log", tmp_path / "probe.log"
        serve = await kp.start(["serve"], env, serve_log)
        probe = None
        try:
            await kp.wait_healthy(f"http://127.0.0.1:{port}", serve, serve_log)
            # The worker has looked once at start and now sleeps until woken (or the long poll).
            probe = await kp.start(["probe", "--no-migrate"], env, probe_log)

            async def paged() -> bool:
                return any(d["idempotency_key"] == "1:0:hook:0" for d in recv.deliveries)

            await kp.wait_for(paged, 60, f"the page\n{kp.tail(serve_log)}\n{kp.tail(probe_log)}")
        finally:
            if probe is not None:
                await kp.stop(probe)
            await kp.stop(serve)
