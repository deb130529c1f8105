"""The web UI in a real browser: Debian's Chromium driven by pip's Playwright, against a real
``koban serve`` (issue 15's proof: log in; an incident arrives live; acknowledge it from its page;
Japanese; /docs offline, with the CSP holding on every page: no violation in the console)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
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
    db_url: str = ""
    digest_run: int = 0  # a stored run of LOGS' digest, for its page


# A schedule where alice is always on call (one member, daily), and a monitor that is not probed
# (its history is written by the test), so the pages have something to show.
SCHEDULE = {
    "id": "ui-sched",
    "layers": [{"name": "daily", "members": ["alice"], "rotation": "daily", "start": "2026-01-05"}],
}
MONITOR = {
    "id": "ui-mon",
    "name": "Shop",
    "service": "web",
    "target": "http://127.0.0.1:9/",
    "enabled": False,
    "locations": ["local", "tokyo"],
    "tags": ["shop"],
}
# A digest and a log rule on a cluster that never answers: their pages show rows the test writes.
LOGS = {
    "log_clusters": [{"id": "ui-logs", "url": "http://127.0.0.1:9", "dashboards_url": "http://dash.example"}],
    "digests": [
        {
            "id": "ui-digest", "cluster": "ui-logs", "index": "logs-*", "channels": ["hook"],
            "schedule": {"cron": "0 9 * * *", "timezone": "Asia/Tokyo"},
        }
    ],
    "log_rules": [
        {"id": "ui-rule", "cluster": "ui-logs", "service": "web", "type": "any", "index": "logs-*"}
    ],
}  # fmt: skip
# A public status page listing the service and the monitor under public names only.
STATUS_PAGE = {
    "id": "ui-status",
    "title": {"en": "Shop status", "ja": "ショップの稼働状況"},
    "groups": [
        {
            "title": {"en": "Storefront", "ja": "ストア"},
            "items": [
                {"service": "web", "name": {"en": "Website", "ja": "ウェブサイト"}},
                {"monitor": "ui-mon", "name": {"en": "Checkout", "ja": "決済"}},
            ],
        }
    ],
}
AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"


async def _people(db_url: str) -> None:
    db = Database(db_url)
    try:
        async with db.begin() as conn:
            # alice administers (the settings pages only administrators open are checked too)
            for person, role in (("alice", Role.ADMIN), ("bob", Role.RESPONDER)):
                await create_user(
                    conn, person, time.time(), password_hash=HASHER.hash(PASSWORD), global_role=role
                )
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    _chromium()  # skip before starting koban
    tmp = tmp_path_factory.mktemp("ui")
    db_url = f"sqlite:///{tmp / 'koban.db'}"
    port = free_port()
    cfg = kp.paging_config("http://127.0.0.1:9/")
    cfg["people"][1].update(language="ja-JP", timezone="Asia/Tokyo")  # bob reads Japanese
    cfg["schedules"], cfg["monitors"], cfg["status_pages"] = [SCHEDULE], [MONITOR], [STATUS_PAGE]
    cfg.update(LOGS)
    env = kp.koban_env(db_url, tmp / "data", port=port, config_file=kp.write_config(tmp / "koban.yaml", cfg))
    log = tmp / "serve.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([kp.KOBAN, "serve", "--no-worker"], env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not kp.answers(f"{base}/healthz"):
            assert proc.poll() is None and time.monotonic() < deadline, kp.tail(log)
            time.sleep(0.1)
        asyncio.run(_people(db_url))
        asyncio.run(_history(db_url))
        yield Served(base, db_url, asyncio.run(_digest_run(db_url)))
    finally:
        kp.stop_popen(proc)


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
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        "koban", timeout=WAIT_MS
    )  # a loaded machine
    # A tag's heading: Swagger UI lists operations in ``.opblock-tag-section``s, or, past a number of
    # operations, in a virtual list; ``h3.opblock-tag`` heads a tag in both.
    expect(page.locator("h3.opblock-tag").first).to_be_visible()
    assert outside == [] and page.violations == []


async def _digest_run(db_url: str) -> int:
    """A posted run of ``ui-digest`` with its numbers, as ``logs/digests.py`` stores one."""
    import sqlalchemy as sa

    from koban.db.schema_logs import digest_posts, digest_runs

    at = "2026-01-05T09:00:00+09:00"
    pattern = {"pattern": "boom <N>", "count": 3, "first_seen": at, "last_seen": at, "example": "boom 7"}
    summary = {
        "window_start": at, "window_end": at, "total": 3, "levels": {"ERROR": 3}, "per_hour": 0.12,
        "peak_hour": at, "peak_count": 3, "patterns": [pattern], "new_patterns": ["boom <N>"],
        "movers": [{"pattern": "boom <N>", "count": 3, "median": 0.0, "change": 3.0}], "link": "http://dash.example/",
    }  # fmt: skip
    db = Database(db_url)
    try:
        async with db.begin() as conn:
            row = {"digest_id": "ui-digest", "window_start": 1.0, "window_end": 86401.0, "status": "posted"}
            row |= {"started_at": 86402.0, "summary": summary}
            res = await conn.execute(sa.insert(digest_runs).values(**row))
            run = int(res.inserted_primary_key[0])
            await conn.execute(
                sa.insert(digest_posts).values(
                    key="ui-digest:1:hook",
                    run_id=run,
                    digest_id="ui-digest",
                    channel_id="hook",
                    channel_type="webhook",
                    payload={},
                    state="sent",
                    attempts=1,
                    created_at=86402.0,
                    sent_at=86402.0,
                )  # fmt: skip
            )
        return run
    finally:
        await db.dispose()


async def _history(db_url: str) -> None:
    """An hour of results from two locations, one failure each, through the prober's own store."""
    from koban.core.clock import SystemClock
    from koban.monitoring.store import ProbeStore
    from koban.probes.result import Phases, ProbeResult

    db = Database(db_url)
    try:
        now = time.time()
        for location, seconds in (("local", 0.04), ("tokyo", 0.15)):
            store = ProbeStore(db, location, SystemClock())
            batch = [
                ProbeResult(
                    kind="http",
                    target="",
                    success=i != 20,
                    started_at=datetime.fromtimestamp(now - 3600 + i * 60, UTC),
                    duration=seconds * (1 + i % 4),
                    phases=Phases(resolve=seconds / 8, connect=seconds / 4, processing=seconds / 2),
                    status_code=200,
                    monitor_id="ui-mon",
                    location=location,
                    final=True,
                )
                for i in range(60)
            ]
            await store.write(batch, {})
            await store.flush_rollups()
    finally:
        await db.dispose()


def test_a_monitors_graph_opens_and_zooms(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    _sign_in(page)
    page.goto("/monitors?tag=shop")
    page.get_by_role("link", name="Shop", exact=True).click()
    expect(page.locator("h1")).to_have_text("Monitor Shop")
    expect(page.locator("#graph-total path").first).to_be_visible()
    expect(page.locator("#graph-total rect.failure").first).to_be_attached()
    assert page.locator("#graph-locations path").count() >= 2  # local and tokyo side by side
    page.get_by_role("link", name="6h", exact=True).click()
    page.wait_for_url("**range=6h")
    page.locator("#graph-total a.slice").nth(7).click()  # the last of eight slices: the last 45 min
    page.wait_for_url("**since=*")
    expect(page.get_by_role("link", name="Zoom out")).to_be_visible()
    expect(page.locator("#graph-total path").first).to_be_visible()
    assert page.violations == []


def test_an_override_made_on_the_schedule_page_changes_who_is_on_call_now(page: Any) -> None:
    from playwright.sync_api import expect

    _sign_in(page)
    page.goto("/oncall")
    now = page.locator("table.oncall tr", has=page.locator("a[href='/schedules/ui-sched']"))
    expect(now.locator("td.who-now")).to_have_text("alice")
    now.get_by_role("link", name="ui-sched").click()
    page.get_by_role("link", name="Cover this slot").first.click()
    expect(page.locator("#o-replaces")).to_have_value("alice")
    page.select_option("#o-person", "bob")
    page.get_by_role("button", name="Add the override").click()
    page.wait_for_url("**/schedules/ui-sched?start=*")
    page.goto("/oncall")
    expect(now.locator("td.who-now")).to_have_text("bob")
    assert page.violations == []


def _axe(page: Any) -> list[str]:
    """axe-core's findings on the page as it is (run through DevTools, as a page script could not
    be under the CSP): one line per violated rule, with its impact and where."""
    if not AXE.is_file():
        pytest.skip("axe-core is missing: `make test` installs it (npm ci --prefix tests/web/axe)")
    page.evaluate(AXE.read_text())
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in found]


def test_a_swap_asked_from_a_slot_is_approved_on_the_schedule_page(page: Any) -> None:
    from playwright.sync_api import expect

    _sign_in(page)  # alice administers: a manager of every team
    page.goto("/schedules/ui-sched")
    slot = page.locator("table.slots tbody tr", has=page.get_by_role("link", name="Swap this slot")).first
    person = slot.locator("td").nth(2).inner_text()  # alice, or bob where an override made him
    slot.get_by_role("link", name="Swap this slot").click()
    expect(page.locator("#s-requester")).to_have_value(person)  # the slot's person, prefilled
    page.select_option("#s-taker", "carol")
    page.get_by_role("button", name="Ask for the swap").click()
    page.wait_for_url("**/schedules/ui-sched?start=*")
    approve = page.get_by_role("button", name=re.compile(r"^Approve swap #\d+$"))
    expect(approve).to_be_visible()
    assert _axe(page) == []  # the open swap's forms too
    approve.click()
    page.wait_for_url("**/schedules/ui-sched?start=*")
    expect(page.locator("#swaps + p")).to_have_text("No swap is open.")
    assert page.violations == []


@pytest.mark.parametrize("person", ["alice", "bob"])  # English and Japanese
def test_every_page_has_no_accessibility_violation(page: Any, served: Served, person: str) -> None:
    incident = _ingest(served, "axe check", f"axe-{person}")
    paths = [
        "/incidents",
        f"/incidents/{incident}",
        "/monitors",
        "/monitors/ui-mon",
        "/oncall",
        "/schedules/ui-sched",
        "/reports",
        "/settings",
        "/settings/people",
        "/settings/teams",
        "/settings/tokens",
        "/settings/channels",
        "/logs",
        "/logs/digests/ui-digest",
        f"/logs/digests/ui-digest/runs/{served.digest_run}",
        "/logs/rules/ui-rule",
        "/status/ui-status",
    ]
    if person == "alice":
        # and the edit pages: a new person's form, a YAML person (read-only, login form), a channel,
        # the forms that add a team or a channel, and a delete's confirmation
        paths += ["/settings/integrations", "/settings/audit", "/settings/people/new"]
        paths += ["/settings/people/bob/edit", "/settings/channels/hook/edit"]
        paths += ["/settings/teams/new", "/settings/channels/new", "/settings/channels/hook/delete"]
        paths += ["/settings/config"]
    page.set_content("<!doctype html><html><body><img src='x.png'></body></html>")
    assert any(v.startswith("image-alt") for v in _axe(page))  # axe runs and reports
    page.goto("/login")
    found = {"/login": _axe(page)}
    _sign_in(page, person)
    for path in paths:
        page.goto(path)
        found[path] = _axe(page)
    assert {p: v for p, v in found.items() if v} == {}
    assert page.violations == []


def test_the_public_status_page_opens_without_a_login(page: Any) -> None:
    from playwright.sync_api import expect

    response = page.goto("/status/ui-status")  # a fresh browser: no session
    assert response is not None and response.status == 200 and "/login" not in page.url
    expect(page.locator("h1")).to_have_text("Shop status")
    expect(page.locator(".status-item").first).to_contain_text("Website")
    expect(page.locator(".status-bars").first).to_be_visible()
    assert page.locator(".status-bars").first.locator("rect").count() == 90
    expect(page.locator("body")).not_to_contain_text("ui-mon")  # the monitor's own id stays inside
    page.get_by_role("link", name="日本語").click()
    expect(page.locator("h1")).to_have_text("ショップの稼働状況")
    expect(page.locator(".status-item").nth(1)).to_contain_text("決済")
    assert page.violations == []
