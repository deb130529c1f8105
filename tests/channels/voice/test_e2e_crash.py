"""``koban serve`` killed while Twilio is placing a call: after a restart nobody is called twice.

The simulator accepts the create request for alice's call but answers it late; koban is killed in
that window (request sent, answer not recorded). The restarted process finds the delivery left
``sending``, reconciles it against Twilio instead of dialling again, settles alice's unanswered call,
and moves on to bob, who presses 1.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import yaml

from koban.fakes.twilio import TwilioSimulator
from koban.testing.ports import free_port
from tests.channels.voice.engine_rig import AUTH_TOKEN, KEY, PHONES, voice_config
from tests.support.admin import provision_url

KOBAN = str(Path(sys.executable).with_name("koban"))
PERSONAS = {"numbers": {PHONES["alice"]: "no-answer", PHONES["bob"]: "ack"}}


def start_koban(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen([KOBAN, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)


async def wait_healthy(url: str, proc: subprocess.Popen, within: float = 60.0) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(int(within / 0.1)):
            assert proc.poll() is None, "koban serve exited"
            try:
                async with http.get(f"{url}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("koban serve did not become healthy")


async def get_json(url: str, token: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        return await resp.json()


async def test_killed_between_placing_a_call_and_recording_it_nobody_is_called_twice(db_url, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with TwilioSimulator(AUTH_TOKEN, personas=PERSONAS, speed=1) as sim:
        cfg = voice_config(sim, channel={"ring_timeout": 5, "overdue_after": 2})
        config_file = tmp_path / "koban.yaml"
        config_file.write_text(yaml.safe_dump(cfg.model_dump(mode="json", exclude_none=True)))
        env = {
            **os.environ,
            "KOBAN_DATABASE_URL": db_url,
            "KOBAN_DATA_DIR": str(tmp_path),
            "KOBAN_PORT": str(port),
            "KOBAN_PUBLIC_URL": url,
            "KOBAN_SECRET_KEY": "crash-test-secret",
            "KOBAN_CONFIG_FILE": str(config_file),
            "KOBAN_LEASE_SECONDS": "2",
            "KOBAN_SQLITE_SYNCHRONOUS": "NORMAL",
        }
        log = tmp_path / "koban.log"
        proc = start_koban(env, log)
        try:
            await wait_healthy(url, proc)
            sim.fail_next(delay=6.0)  # alice's call is placed, but Twilio's answer comes too late
            async with aiohttp.ClientSession() as http:
                body = {"summary": "web-1 is down", "severity": "critical", "dedup_key": "web-1"}
                headers = {"Authorization": f"Bearer {KEY}"}
                async with http.post(f"{url}/api/v1/ingest", json=body, headers=headers) as resp:
                    assert resp.status in (200, 202), await resp.text()
            for _ in range(400):
                if any(c.to == PHONES["alice"] for c in sim.calls.values()):
                    break
                await asyncio.sleep(0.025)
            proc.send_signal(signal.SIGKILL)  # the create request was sent; its answer is never recorded
            proc.wait(timeout=10)
            proc = start_koban(env, log)
            await wait_healthy(url, proc)
            incident = {}
            token = await provision_url(db_url, time.time())
            for _ in range(600):
                incident = await get_json(f"{url}/api/v1/incidents/1", token)
                if incident.get("status") == "acknowledged":
                    break
                await asyncio.sleep(0.1)
            assert incident.get("status") == "acknowledged", log.read_text()[-3000:]
            assert incident["acknowledged_by"] == "bob"
            to = sorted(c.to for c in sim.calls.values())
            assert to == [PHONES["alice"], PHONES["bob"]], to  # one call each: nobody called twice
            # alice's call was adopted and settled from Twilio, not left to the step's 60 s timeout.
            kinds = [(e["kind"], e.get("actor")) for e in incident.get("timeline", [])]
            assert ("notification.not_reached", "alice") in kinds, kinds
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
