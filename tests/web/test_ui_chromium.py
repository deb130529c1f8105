"""The web UI in a real browser: Debian's Chromium driven by pip's Playwright, against a real
``koban serve`` (issue 15's proof: log in; an incident arrives live; acknowledge it from its page;
Japanese; /docs offline, with the CSP holding on every page: no violation in the console)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from koban.auth.passwords import HASHER
from koban.auth.permissions import Role
from koban.auth.store import create_user
from koban.db.engine import Database
from koban.testing.ports import free_port
from tests.support import koban_proc as kp
from tests.support.peers import peers_required

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery staple"
WAIT_MS = 20_000  # generous: two cores shared by many


def _chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        found = None
    if found is None:
        reason = "Chromium or pip's playwright is missing: run `make peers` and `make install`"
        if peers_required():
            pytest.fail(f"KOBAN_REQUIRE_PEERS=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return found


@dataclass(frozen=True)
class Served:
    base: str


async def _people(db_url: str) -> None:
    db = Database(db_url)
    try:
        async with db.begin() as conn:
            for person in ("alice", "bob"):
                await create_user(
                    conn, person, time.time(), password_hash=HASHER.hash(PASSWORD), global_role=Role.RESPONDER
                )
    finally:
        await db.dispose()


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    _chromium()  # skip before starting koban
    tmp = tmp_path_factory.mktemp("ui")
    db_url = f"sqlite:///{tmp / 'koban.db'}"
    port = free_port()
    cfg = kp.paging_config("http://127.0.0.1:9/")
    cfg["people"][1].update(language="ja-JP", timezone="Asia/Tokyo")  # bob reads Japanese
    env = kp.koban_env(db_url, tmp / "data", port=port, config_file=kp.write_config(tmp / "koban.yaml", cfg))
    log = tmp / "serve.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([kp.KOBAN, "serve", "--no-worker"], env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _healthy(base):
            assert proc.poll() is None and time.monotonic() < deadline, kp.tail(log)
            time.sleep(0.1)
        asyncio.run(_people(db_url))
        yield Served(base)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Any]:
    """After ``served``: Playwright's sync API keeps an event loop running while it is open."""
    path = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    context = browser.new_context(base_url=served.base, locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    tab.violations = []  # Content-Security-Policy refusals the console reports
    tab.on(
        "console",
        lambda m: tab.violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        yield tab
    finally:
        context.close()


def _sign_in(page: Any, person: str = "alice") -> None:
    page.goto("/login?next=/incidents")
    page.fill("#person", person)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/incidents")


def _ingest(served: Served, summary: str, key: str) -> int:
    r = httpx.post(f"{served.base}/api/v1/ingest/{kp.KEY}", json={"summary": summary, "dedup_key": key})
    assert r.status_code == 202, r.text
    return int(r.json()["incidents"][0]["incident_id"])


def test_a_person_signs_in_and_sees_the_incidents(page: Any) -> None:
    from playwright.sync_api import expect

    _sign_in(page)
    expect(page.locator("header .who")).to_contain_text("Signed in as alice")
    expect(page.locator("h1")).to_have_text("Incidents")
    assert page.violations == []


def test_a_new_incident_appears_without_a_reload(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    _sign_in(page)
    page.evaluate("window.__same_page = true")  # gone if the page reloads
    page.wait_for_timeout(1500)  # let the tab's one event stream open
    incident = _ingest(served, "checkout latency <p99>", "live-1")
    row = page.locator(f"#incident-rows a[href='/incidents/{incident}']").first
    expect(row).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#incident-rows")).to_contain_text("checkout latency <p99>")
    assert page.evaluate("window.__same_page") is True
    assert page.violations == []


def test_an_incident_is_acknowledged_from_its_page(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    incident = _ingest(served, "disk full on db-1", "ack-1")
    _sign_in(page)
    page.goto(f"/incidents/{incident}")  # the link every Slack message, email and SMS carries
    expect(page.locator("#incident-status")).to_have_text("triggered")
    page.get_by_role("button", name="Acknowledge", exact=True).click()
    expect(page.locator("#incident-status")).to_have_text("acknowledged")
    expect(page.locator(".facts")).to_contain_text("alice (ui)")
    assert page.violations == []


def test_a_japanese_speaker_reads_koban_in_japanese(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    incident = _ingest(served, "ディスク満杯", "ja-1")
    _sign_in(page, "bob")
    expect(page.locator("h1")).to_have_text("インシデント")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.goto(f"/incidents/{incident}")
    expect(page.get_by_role("button", name="確認する")).to_be_visible()
    expect(page.locator(".summary-line")).to_contain_text("ディスク満杯")
    assert page.violations == []


def test_the_api_reference_renders_offline_under_the_csp(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    outside: list[str] = []  # anything fetched from elsewhere (a CDN) would fail on a closed network
    page.on("request", lambda r: None if r.url.startswith(served.base) else outside.append(r.url))
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("koban")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    assert outside == [] and page.violations == []
