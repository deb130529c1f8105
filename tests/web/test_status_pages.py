"""Public status pages, in process on SQLite and PostgreSQL: no login, only the page's public
words (never a service's or monitor's own name, an incident's summary or labels, or a person),
daily bars from the day rollups, public updates, maintenance, Japanese, cached a few seconds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from koban.auth.permissions import Role
from koban.config.model import ConfigFile
from koban.core.clock import FakeClock
from koban.db.schema_auth import audit_events
from koban.db.schema_probes import monitor_state
from koban.monitoring.store import ProbeStore
from koban.probes.result import Phases, ProbeResult
from tests.support.factories import make_config
from tests.support.system import client, running_system
from tests.web.pages_support import HTML, add_person, browser, form_csrf, open_incident, sign_in

NOW = 1_800_000_000.0
SECRETS = (
    "db-primary-7",
    "Internal DB primary",
    "secret-host-9",
    "password rotation on db-primary-7",
    "swap-disk-on-secret-host",
)
# Planned in an hour, for an hour; its name and title stay inside.
MAINTENANCE = {
    "id": "swap-disk-on-secret-host",
    "title": "swap-disk-on-secret-host",
    "services": ["web"],
    "starts_at": datetime.fromtimestamp(NOW + 3600, UTC).isoformat(),
    "ends_at": datetime.fromtimestamp(NOW + 7200, UTC).isoformat(),
}
PAGE = {
    "id": "shop",
    "title": {"en": "Shop status", "ja": "ショップの稼働状況"},
    "timezone": "Asia/Tokyo",
    "groups": [
        {
            "title": {"en": "Storefront", "ja": "ストア"},
            "items": [
                {"service": "web", "name": {"en": "Website", "ja": "ウェブサイト"}},
                {"monitor": "db-primary-7", "name": {"en": "Checkout", "ja": "決済"}},
            ],
        }
    ],
}


def _config(**extra: Any) -> ConfigFile:
    data = make_config().model_dump(mode="json", exclude_defaults=True)
    data["services"][0]["name"] = "Internal web tier"
    data["monitors"] = [
        {
            "id": "db-primary-7",
            "name": "Internal DB primary",
            "service": "web",
            "target": "http://secret-host-9.internal:5432/",
            "enabled": False,
            "tags": ["secret-host-9"],
        }
    ]
    data["status_pages"] = [PAGE]
    return ConfigFile.model_validate({**data, **extra})


async def _history(k: Any, failures: int) -> None:
    """Today's results for the monitor (``failures`` of 100 failed), flushed to its day rollup."""
    store = ProbeStore(k.db, "local", k.clock)
    start = NOW - NOW % 86400
    batch = [
        ProbeResult(
            kind="http",
            target="",
            success=i >= failures,
            started_at=datetime.fromtimestamp(start + 60 + i * 60, UTC),
            duration=0.05,
            phases=Phases(resolve=0.01, connect=0.01, processing=0.03),
            status_code=200,
            monitor_id="db-primary-7",
            location="local",
            final=True,
        )
        for i in range(100)
    ]
    await store.write(batch, {})
    await store.flush_rollups()


async def _state(k: Any, status: str) -> None:
    async with k.db.begin() as conn:
        await conn.execute(
            sa.insert(monitor_state).values(
                monitor_id="db-primary-7",
                status=status,
                reason="failing",
                since=NOW,
                version=1,
                updated_at=NOW,
            )
        )


def _leaks(html: str) -> list[str]:
    words = [*SECRETS, "Internal web tier", "web-generic", "alice", "bob", "carol", "/incidents"]
    return [w for w in words if w in html]


async def test_the_status_page_shows_only_its_public_words_without_a_login(db_url, tmp_path):
    cfg = _config(maintenance=[MAINTENANCE])
    async with running_system(db_url, cfg, tmp_path, clock=FakeClock(NOW)) as k, client(k) as admin:
        await _history(k, failures=2)
        await _state(k, "down")
        incident = await open_incident(
            admin, "password rotation on db-primary-7", labels={"host": "secret-host-9"}
        )
        async with client(k, admin=False) as anyone:
            page = await anyone.get("/status/shop", headers=HTML)
            assert page.status_code == 200, page.text
            assert page.headers["cache-control"] == "public, max-age=5"
            assert "script-src 'self'" in page.headers["content-security-policy"]
            html = page.text
            assert "<title>Shop status</title>" in html and "Storefront" in html
            assert "Website" in html and "Checkout" in html
            assert "Some systems are down" in html  # the one monitor is down: both items are out
            assert html.count('class="grade-') == 180  # 90 days, two items
            assert "grade-minor" in html and "98.00 %" in html  # today: 98 of 100 succeeded
            assert "<script" not in html
            assert "Planned maintenance" in html and "2027" in html  # shown in Tokyo time
            # An incident nobody wrote a public update for does not show.
            assert "Investigating" not in html
            assert _leaks(html) == []
            r = await admin.post(
                f"/api/v1/incidents/{incident}/public_updates",
                json={"status": "identified", "message": "Payments fail <b>for some</b> customers"},
            )
            assert r.status_code == 201, r.text
            assert r.json()["by"] is not None
            cached = await anyone.get("/status/shop", headers=HTML)
            assert "Payments fail" not in cached.text  # the same page for CACHE_SECONDS
            k.clock.advance(6)
            html = (await anyone.get("/status/shop", headers=HTML)).text
            assert "Identified" in html and "Payments fail &lt;b&gt;for some&lt;/b&gt; customers" in html
            assert _leaks(html) == []
            ja = await anyone.get("/status/shop", headers={**HTML, "accept-language": "ja"})
            assert '<html lang="ja">' in ja.text and "ショップの稼働状況" in ja.text and "決済" in ja.text
            assert "原因特定" in ja.text and _leaks(ja.text) == []
            assert "ウェブサイト" in (await anyone.get("/status/shop", params={"lang": "ja"})).text
            missing = await anyone.get("/status/nope", headers=HTML)
            assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
            too_long = await anyone.get("/status/" + "x" * 100)
            assert too_long.status_code == 422


async def test_a_responder_posts_a_public_update_from_the_incident_page(db_url, tmp_path):
    async with running_system(db_url, _config(), tmp_path, clock=FakeClock(NOW)) as k, client(k) as admin:
        incident = await open_incident(admin, "disk full on db-1")
        await add_person(k, "alice", Role.RESPONDER)
        await add_person(k, "bob", Role.VIEWER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            page = await b.get(f"/incidents/{incident}")
            assert f'action="/incidents/{incident}/public-updates"' in page.text
            csrf = form_csrf(page.text)
            bad = await b.post(
                f"/incidents/{incident}/public-updates", data={"csrf": csrf, "status": "meh", "message": "x"}
            )
            assert bad.status_code == 422 and 'role="alert"' in bad.text
            empty = await b.post(
                f"/incidents/{incident}/public-updates",
                data={"csrf": csrf, "status": "monitoring", "message": "  "},
            )
            assert empty.status_code == 422
            done = await b.post(
                f"/incidents/{incident}/public-updates",
                data={"csrf": csrf, "status": "monitoring", "message": "A fix is out; we are watching."},
            )
            assert done.status_code == 303, done.text
            shown = (await b.get(f"/incidents/{incident}")).text
            assert "A fix is out; we are watching." in shown and "public_update" in shown
            no_csrf = await b.post(
                f"/incidents/{incident}/public-updates", data={"status": "monitoring", "message": "x"}
            )
            assert no_csrf.status_code == 403
        async with browser(k) as b:
            await sign_in(b, "bob")
            page = await b.get(f"/incidents/{incident}")
            assert "A fix is out" in page.text
            assert f'action="/incidents/{incident}/public-updates"' not in page.text  # a viewer reads only
            refused = await b.post(
                f"/incidents/{incident}/public-updates",
                data={"csrf": form_csrf(page.text), "status": "resolved", "message": "done"},
            )
            assert refused.status_code == 403
        listed = (await admin.get(f"/api/v1/incidents/{incident}/public_updates")).json()["public_updates"]
        assert [(u["status"], u["by"]) for u in listed] == [("monitoring", "alice")]
        assert (await admin.get("/api/v1/incidents/999/public_updates")).status_code in (403, 404)
        missing = await admin.post(
            "/api/v1/incidents/999/public_updates", json={"status": "resolved", "message": "x"}
        )
        assert missing.status_code == 404
        async with k.db.read() as conn:
            q = sa.select(audit_events.c.actor, audit_events.c.via).where(
                audit_events.c.action == "incident.public_update"
            )
            assert (await conn.execute(q)).all() == [("alice", "ui")]


async def test_status_pages_are_config_objects_written_by_administrators(db_url, tmp_path):
    async with running_system(db_url, _config(status_pages=[]), tmp_path, clock=FakeClock(NOW)) as k:
        async with client(k) as admin:
            put = await admin.put("/api/v1/status_pages/shop", json=PAGE)
            assert put.status_code == 200, put.text
            listed = (await admin.get("/api/v1/status_pages")).json()["status_pages"]
            assert [p["id"] for p in listed] == ["shop"]
            bad = {**PAGE, "groups": [{"title": "x", "items": [{"service": "nope", "name": "Nope"}]}]}
            refused = await admin.put("/api/v1/status_pages/shop", json=bad)
            assert refused.status_code == 422 and "unknown service 'nope'" in refused.text
            both = {
                **PAGE,
                "groups": [
                    {"title": "x", "items": [{"service": "web", "monitor": "db-primary-7", "name": "y"}]}
                ],
            }
            assert (await admin.put("/api/v1/status_pages/shop", json=both)).status_code == 422
            k.clock.advance(3)
            async with client(k, admin=False) as anyone:
                assert (await anyone.get("/status/shop")).status_code == 200
        await add_person(k, "alice", Role.RESPONDER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            page = await b.get("/incidents")
            headers = {"x-csrf-token": form_csrf(page.text), "accept": "application/json"}
            r = await b.put(
                "/api/v1/status_pages/other", json={**PAGE, "id": "other", "slug": "other"}, headers=headers
            )
            assert r.status_code == 403  # what is public is an administrator's decision
        async with k.db.read() as conn:
            q = sa.select(audit_events.c.action).where(audit_events.c.object_kind == "status_pages")
            assert (await conn.execute(q)).scalars().all() == ["status_pages.create"]


async def test_the_demo_has_a_public_status_page(db_url, tmp_path):
    from pathlib import Path

    from koban.config.loader import load_config

    demo = load_config(Path(__file__).parents[2] / "examples" / "demo.yaml")
    async with (
        running_system(db_url, demo, tmp_path, clock=FakeClock(NOW)) as k,
        client(k, admin=False) as anyone,
    ):
        html = (await anyone.get("/status/demo", headers=HTML)).text
        assert "Demo shop status" in html and "Website" in html and "Alerting" in html
        assert "koban-healthz" not in html and "Web shop" not in html
