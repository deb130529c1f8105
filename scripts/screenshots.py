"""`make screenshots`: PNGs of the main pages, in English and Japanese, from a seeded demo.

Starts `koban demo` on fresh data in a temporary directory (never ./data/demo), writes an hour of
probe history for the demo's monitor through the prober's own store, sends the README's alerts, and
lets the demo page its rotation for a few seconds so the incident has a timeline. Then Debian's
Chromium, driven by Playwright, signs in as the demo's administrator and photographs each page
with the browser's language set to each of koban's two. Output: docs/screenshots/<page>-<lang>.png.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PORT = int(os.environ.get("PORT", "8080"))  # the demo's monitor probes its own /healthz on 8080
BASE = f"http://127.0.0.1:{PORT}"
MONITOR = "koban-healthz"
DEMO_KEY = "demo-key-change-me"
PAGES = {
    "incidents": "/incidents",
    "incident": "/incidents/1",
    "monitors": "/monitors",
    "monitor": f"/monitors/{MONITOR}?range=1h",
    "oncall": "/oncall",
    "reports": "/reports",
    "status": "/status/demo",  # the public status page: the same for a signed-in reader
    "settings": "/settings",
}
# Who signs in for each language: a person's own language wins over the browser's, so Japanese is
# photographed as alice (ja-JP in examples/demo.yaml), English as the demo's administrator.
LANGUAGES = {"en": ("en-US", "carol"), "ja": ("ja-JP", "alice")}
ALERTS = [
    {"summary": "web-1 is down", "severity": "critical", "dedup_key": "web-1"},
    {"summary": "checkout latency p95 above 2 s", "severity": "warning", "dedup_key": "checkout-p95"},
    {"summary": "disk /var 91% full on db-2", "severity": "warning", "dedup_key": "db-2-disk"},
]


def _healthy() -> bool:
    try:
        return httpx.get(f"{BASE}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


async def _alice(db_url: str) -> None:
    """A login for alice, the demo's Japanese reader (the demo gives one only to its administrator)."""
    from koban.auth.passwords import hash_password
    from koban.auth.permissions import Role
    from koban.auth.store import create_user
    from koban.cli.demo import DEMO_PASSWORD
    from koban.db.engine import Database

    db = Database(db_url)
    try:
        async with db.begin() as conn:
            hashed = hash_password(DEMO_PASSWORD)
            await create_user(conn, "alice", time.time(), password_hash=hashed, global_role=Role.RESPONDER)
    finally:
        await db.dispose()


async def _history(db_url: str) -> None:
    """An hour of results from two locations, two failures among them, through the prober's store."""
    from koban.core.clock import SystemClock
    from koban.db.engine import Database
    from koban.monitoring.store import ProbeStore
    from koban.probes.result import Phases, ProbeResult

    db = Database(db_url)
    try:
        now = time.time()
        for location, seconds in (("local", 0.03), ("tokyo", 0.12)):
            store = ProbeStore(db, location, SystemClock())
            batch = [
                ProbeResult(
                    kind="http",
                    target="",
                    success=i not in (21, 22),
                    started_at=datetime.fromtimestamp(now - 3600 + i * 30, UTC),
                    duration=seconds * (1 + (i * 7) % 5 / 2),
                    phases=Phases(resolve=seconds / 10, connect=seconds / 5, processing=seconds / 2),
                    status_code=200,
                    monitor_id=MONITOR,
                    location=location,
                    final=True,
                )
                for i in range(120)
            ]
            await store.write(batch, {})
            await store.flush_rollups()
    finally:
        await db.dispose()


def _photograph(chromium: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from koban.cli.demo import DEMO_PASSWORD

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True)
        try:
            for lang, (locale, person) in LANGUAGES.items():
                context = browser.new_context(
                    base_url=BASE, locale=locale, viewport={"width": 1280, "height": 860}
                )
                page = context.new_page()
                page.goto("/login?next=/incidents")
                page.fill("#person", person)
                page.fill("#password", DEMO_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url("**/incidents")
                for name, path in PAGES.items():
                    page.goto(path)
                    page.wait_for_load_state("networkidle")
                    target = OUT / f"{name}-{lang}.png"
                    page.screenshot(path=str(target))
                    written.append(target)
                context.close()
        finally:
            browser.close()
    return written


def main() -> int:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        print("Chromium is missing: run `make peers`", file=sys.stderr)
        return 1
    if _healthy():
        print(f"something already answers on {BASE}: stop it or pass PORT=", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="koban-screens-") as tmp:
        data = Path(tmp) / "demo"
        env = {**os.environ, "KOBAN_DATA_DIR": str(data)}
        log = Path(tmp) / "demo.log"
        with log.open("wb") as out:
            koban = ROOT / ".venv" / "bin" / "koban"
            demo = subprocess.Popen(  # noqa: S603  (our own CLI)
                [str(koban), "demo", "--port", str(PORT)], env=env, stdout=out, stderr=out, cwd=ROOT
            )
        try:
            deadline = time.monotonic() + 90
            while not _healthy():
                if demo.poll() is not None or time.monotonic() > deadline:
                    print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
                    return 1
                time.sleep(0.2)
            db_url = f"sqlite:///{data / 'koban.db'}"
            asyncio.run(_alice(db_url))
            asyncio.run(_history(db_url))
            for alert in ALERTS:
                httpx.post(
                    f"{BASE}/api/v1/ingest", json=alert, headers={"Authorization": f"Bearer {DEMO_KEY}"}
                ).raise_for_status()
            time.sleep(8)  # the team channel, then alice's call: a timeline worth showing
            written = _photograph(chromium)
        finally:
            demo.terminate()
            try:
                demo.wait(15)
            except subprocess.TimeoutExpired:
                demo.kill()
                demo.wait()
    for path in written:
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
