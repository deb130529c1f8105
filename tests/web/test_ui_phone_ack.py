"""Issue 15's proof in a real browser: "acknowledge it from its page and watch the phone simulator stop
calling". ``koban serve`` runs with its worker and a voice channel to the Twilio simulator (as the demo
wires them, through ``KOBAN_TWILIO_*``); an incident phones alice, who never answers; while her phone
rings, she presses Acknowledge on the incident page in Chromium; the simulator then shows the call
ended by Twilio's call update (``Status=canceled``), and nobody else is called although the next step
(bob) was due by then."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from koban.fakes.twilio import DEFAULT_ACCOUNT_SID, DEFAULT_NUMBER
from koban.testing.ports import free_port
from tests.support import koban_proc as kp
from tests.web.test_ui_chromium import PASSWORD, WAIT_MS, _chromium, _people

pytestmark = pytest.mark.slow
SIM_TOKEN = "ui-sim-token"
PHONES = {"alice": "+15550000001", "bob": "+15550000002"}
# Long enough for a loaded machine to sign in and click before bob's turn; the test waits it out to
# show that the acknowledgement, not the clock, kept bob's phone quiet.
ESCALATE_AFTER = 25.0
PERSONAS = 'default: no-answer\nnumbers:\n  "+15550000001": no-answer\n  "+15550000002": no-answer\n'


@dataclass(frozen=True)
class Phoned:
    base: str
    sim: str


def _config() -> dict[str, Any]:
    people = [
        {"id": p, "name": p.title(), "contacts": {"phone": n}, "notify": ["phone"]} for p, n in PHONES.items()
    ]
    return {
        "people": [*people, {"id": "carol", "name": "Carol", "contacts": {"phone": "+15550000003"}}],
        # alice's phone rings for a minute: still ringing when she acknowledges
        "channels": [{"id": "phone", "type": "voice", "ring_timeout": 60}],
        "policies": [
            {
                "id": "page",
                "steps": [
                    {"notify": [{"person": "alice"}], "escalate_after": f"{int(ESCALATE_AFTER)}s"},
                    {"notify": [{"person": "bob"}], "escalate_after": "10m"},
                ],
            }
        ],
        "services": kp.paging_config("http://127.0.0.1:9/")["services"],
    }


def _wait(ok: Any, within: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + within
    while not ok():
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{kp.tail(log) if log else ''}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def phoned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phoned]:
    _chromium()  # skip before starting anything
    tmp = tmp_path_factory.mktemp("phone")
    (tmp / "personas.yaml").write_text(PERSONAS)
    sim_port, port = free_port(), free_port()
    sim_url, base = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{port}"
    log = tmp / "serve.log"
    args = ["--port", str(sim_port), "--auth-token", SIM_TOKEN, "--personas", str(tmp / "personas.yaml")]
    with log.open("ab") as out:
        sim = subprocess.Popen([sys.executable, "-m", "koban.fakes.twilio", *args], stdout=out, stderr=out)
    procs = [sim]
    try:
        _wait(lambda: kp.answers(f"{sim_url}/_sim/calls"), 30, "the Twilio simulator", log)
        db_url = f"sqlite:///{tmp / 'koban.db'}"
        env = kp.koban_env(
            db_url,
            tmp / "data",
            port=port,
            public_url=base,  # the simulator fetches TwiML and posts call progress here
            config_file=kp.write_config(tmp / "koban.yaml", _config()),
            twilio_account_sid=DEFAULT_ACCOUNT_SID,
            twilio_auth_tokens=SIM_TOKEN,
            twilio_from_number=DEFAULT_NUMBER,
            twilio_api_base_url=sim_url,
        )
        with log.open("ab") as out:
            procs.append(subprocess.Popen([kp.KOBAN, "serve"], env=env, stdout=out, stderr=out))
        _wait(lambda: procs[1].poll() is None and kp.answers(f"{base}/healthz"), 60, "koban serve", log)
        asyncio.run(_people(db_url))
        yield Phoned(base, sim_url)
    finally:
        for proc in reversed(procs):
            kp.stop_popen(proc)


def _calls(phoned: Phoned, person: str) -> list[dict[str, Any]]:
    calls = httpx.get(f"{phoned.sim}/_sim/calls", timeout=5).json()["calls"]
    return [c for c in calls if c["to"] == PHONES[person]]


def test_acknowledging_on_the_page_stops_the_phone_ringing_and_nobody_else_is_called(
    phoned: Phoned,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), headless=True)
        try:
            page = browser.new_context(base_url=phoned.base, locale="en-US").new_page()
            page.set_default_timeout(WAIT_MS)
            page.goto("/login?next=/incidents")
            page.fill("#person", "alice")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/incidents")

            body = {"summary": "payments down", "dedup_key": "phone-1"}
            r = httpx.post(f"{phoned.base}/api/v1/ingest/{kp.KEY}", json=body, timeout=10)
            assert r.status_code == 202, r.text
            opened = time.monotonic()
            incident = int(r.json()["incidents"][0]["incident_id"])
            _wait(lambda: any(c["status"] == "ringing" for c in _calls(phoned, "alice")), 30, "alice's phone")
            [call] = _calls(phoned, "alice")

            page.goto(f"/incidents/{incident}")
            page.get_by_role("button", name="Acknowledge", exact=True).click()
            expect(page.locator("#incident-status")).to_have_text("acknowledged")
        finally:
            browser.close()

    # Koban hung the ringing call up through Twilio's call update, not by waiting for the ring timeout.
    _wait(lambda: _calls(phoned, "alice")[0]["status"] == "canceled", 20, "the call to end")
    asked = httpx.get(f"{phoned.sim}/_sim/requests", timeout=5).json()["requests"]
    hangups = [q for q in asked if q["method"] == "POST" and q["path"].endswith(f"/Calls/{call['sid']}.json")]
    assert [q["params"].get("Status") for q in hangups] == ["canceled"], hangups
    # Past the moment bob's step was due, and a little more: nobody else was called, alice not again.
    time.sleep(max(0.0, opened + ESCALATE_AFTER + 3 - time.monotonic()))
    assert len(_calls(phoned, "alice")) == 1 and _calls(phoned, "bob") == []
