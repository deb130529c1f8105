"""The settings pages, in process: each page for each role, secrets shown once, what config as
code manages shown read-only, forms refused without their CSRF token, every change audited."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from koban.auth.permissions import Role
from koban.config.model import ConfigFile
from koban.db import schema as t
from koban.db.schema_auth import api_tokens, audit_events
from koban.ingest.key_admin import api_keys
from tests.support.factories import make_config
from tests.support.system import client, running_system
from tests.web.pages_support import add_person, browser, form_csrf, sign_in

READ_PAGES = ["/settings", "/settings/people", "/settings/teams", "/settings/tokens", "/settings/channels"]
ADMIN_PAGES = ["/settings/integrations", "/settings/audit", "/settings/config"]


def _config() -> ConfigFile:
    data = make_config().model_dump(mode="json")
    data["teams"] = [{"id": "ops", "members": [{"person": "bob", "role": "responder"}]}]
    data["people"][2]["name"] = "<script>alert(1)</script>"  # carol's name: shown as text
    return ConfigFile.model_validate(data)


async def _audit(k, action: str) -> list:
    async with k.db.read() as conn:
        return (await conn.execute(sa.select(audit_events).where(audit_events.c.action == action))).all()


@pytest.mark.parametrize(
    ("person", "role", "allowed"),
    [
        ("alice", Role.ADMIN, READ_PAGES + ADMIN_PAGES),
        ("bob", None, READ_PAGES),  # a responder of team ops
        ("carol", None, []),  # a login without any role
    ],
)
async def test_each_settings_page_answers_each_role(db_url, tmp_path, person, role, allowed):
    async with running_system(db_url, _config(), tmp_path) as k:
        await add_person(k, person, role)
        async with browser(k) as anonymous:
            assert (await anonymous.get("/settings/people")).status_code == 303  # to the sign-in page
        async with browser(k) as b:
            await sign_in(b, person)
            for path in READ_PAGES + ADMIN_PAGES:
                r = await b.get(path)
                assert r.status_code == (200 if path in allowed else 403), (path, r.status_code)
                assert r.headers["content-type"].startswith("text/html")
            if allowed:
                index = (await b.get("/settings")).text
                assert ('href="/settings/audit"' in index) == ("/settings/audit" in allowed)


async def test_people_and_teams_show_what_yaml_manages_read_only(db_url, tmp_path):
    async with running_system(db_url, _config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        async with client(k) as api:  # a person made through the REST API is not the file's
            made = await api.put(
                "/api/v1/people/dave", json={"id": "dave", "contacts": {"email": "d@x.test"}}
            )
            assert made.status_code == 200, made.text
        async with browser(k) as b:
            await sign_in(b, "alice")
            page = (await b.get("/settings/people")).text
            alice = page[page.index('id="p-alice"') :]
            assert (
                "+15550000" in alice[: alice.index("</tr>")]
                and "YAML (read-only)" in alice[: alice.index("</tr>")]
            )
            dave = page[page.index('id="p-dave"') :]
            assert "REST API" in dave[: dave.index("</tr>")] and "YAML" not in dave[: dave.index("</tr>")]
            assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
            assert "<form" not in page.split("<main", 1)[1]  # nothing to edit on a config object here
            teams = (await b.get("/settings/teams")).text
            assert "bob" in teams and "config file" in teams and "YAML (read-only)" in teams


async def test_a_token_made_on_the_page_is_shown_once_works_and_is_revoked(db_url, tmp_path):
    async with running_system(db_url, _config(), tmp_path) as k:
        await add_person(k, "bob")
        async with browser(k) as b:
            await sign_in(b, "bob")
            page = (await b.get("/settings/tokens")).text
            made = await b.post(
                "/settings/tokens",
                data={"csrf": form_csrf(page), "name": "ci", "scope": "read", "expires": "30"},
            )
            assert made.status_code == 200, made.text
            text = re.search(r'value="(kbt_[0-9A-Za-z]+)"', made.text).group(1)
            again = (await b.get("/settings/tokens")).text
            assert text not in again and text[:12] in again  # its first characters tell it apart
            async with browser(k) as script:
                assert (
                    await script.get("/api/v1/tokens", headers={"authorization": f"Bearer {text}"})
                ).status_code == 200
            async with k.db.read() as conn:
                ident = (
                    await conn.execute(sa.select(api_tokens.c.id).where(api_tokens.c.name == "ci"))
                ).scalar_one()
            revoked = await b.post(f"/settings/tokens/{ident}/revoke", data={"csrf": form_csrf(again)})
            assert revoked.status_code == 303
            k.clock.advance(2)  # past the guard's one-second cache
            async with browser(k) as script:
                assert (
                    await script.get("/api/v1/tokens", headers={"authorization": f"Bearer {text}"})
                ).status_code == 401
        created, gone = await _audit(k, "token.create"), await _audit(k, "token.revoke")
        assert [(e.actor, e.via) for e in created + gone] == [("bob", "ui"), ("bob", "ui")]


async def test_a_person_cannot_revoke_or_make_another_persons_token(db_url, tmp_path):
    async with running_system(db_url, _config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        await add_person(k, "bob")
        async with client(k) as api:
            theirs = (await api.post("/api/v1/tokens", json={"name": "admin's"})).json()["id"]
        async with browser(k) as b:
            await sign_in(b, "bob")
            csrf = form_csrf((await b.get("/settings/tokens")).text)
            page = (await b.get("/settings/tokens")).text
            assert "admin&#39;s" not in page and "admin's" not in page  # not listed to bob
            assert (await b.post(f"/settings/tokens/{theirs}/revoke", data={"csrf": csrf})).status_code == 404
            other = await b.post("/settings/tokens", data={"csrf": csrf, "name": "x", "person": "alice"})
            assert other.status_code == 403
            bad = await b.post("/settings/tokens", data={"csrf": csrf, "name": "x", "scope": "root"})
            assert bad.status_code == 422 and "Pick a scope." in bad.text


async def test_a_form_without_its_csrf_token_is_refused(db_url, tmp_path):
    async with running_system(db_url, _config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        async with browser(k) as b:
            await sign_in(b, "alice")
            for path, data in [
                ("/settings/tokens", {"name": "x"}),
                ("/settings/integrations/web-generic/keys", {}),
                ("/settings/channels/log/repair", {}),
            ]:
                r = await b.post(path, data={**data, "csrf": "forged"})
                assert r.status_code == 403, path
        async with k.db.read() as conn:
            assert (await conn.execute(sa.select(sa.func.count()).select_from(api_tokens))).scalar() == 0
            assert await api_keys(conn, "web-generic") == []


async def test_an_integration_key_is_shown_once_and_yaml_keys_are_read_only(db_url, tmp_path):
    async with running_system(db_url, _config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        async with browser(k) as b:
            await sign_in(b, "alice")
            page = (await b.get("/settings/integrations")).text
            assert "1 keys in the YAML file" in page and "YAML (read-only)" in page
            assert "/revoke" not in page  # a YAML key changes in the file, not here
            made = await b.post("/settings/integrations/web-generic/keys", data={"csrf": form_csrf(page)})
            assert made.status_code == 200
            key = made.text.split('id="new-secret"')[0].rsplit('value="', 1)[1].split('"')[0]
            async with client(k, admin=False) as sender:
                sent = await sender.post(f"/api/v1/ingest/{key}", json={"summary": "with the new key"})
                assert sent.status_code == 202, sent.text
            again = (await b.get("/settings/integrations")).text
            assert key not in again and key[:8] in again and "/revoke" in again
            assert (
                await b.post("/settings/integrations/nope/keys", data={"csrf": form_csrf(page)})
            ).status_code == 404
        assert [(e.actor, e.via) for e in await _audit(k, "integration_keys.create")] == [("alice", "ui")]


async def test_channels_show_their_status_and_an_admin_clears_a_broken_mark(db_url, tmp_path):
    async with running_system(db_url, _config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        await add_person(k, "bob")
        now = k.clock.now()
        async with k.db.begin() as conn:
            await conn.execute(
                sa.update(t.channels)
                .where(t.channels.c.id == "log")
                .values(broken_reason="archived", broken_at=now)
            )
            await conn.execute(
                sa.insert(t.deliveries),
                [
                    {
                        "key": f"k{i}",
                        "incident_id": 1,
                        "kind": "page",
                        "channel_id": "log",
                        "channel_type": "console",
                        "state": state,
                        "error": error,
                        "created_at": now + i,
                    }
                    for i, (state, error) in enumerate(
                        [("reached", None), ("failed", "channel_broken: archived")]
                    )
                ],
            )
        await k.refresh_catalog(force=True)
        async with browser(k) as b:
            await sign_in(b, "bob")
            page = (await b.get("/settings/channels")).text
            assert "archived" in page and "channel_broken: archived" in page and "1 of the last 2" in page
            assert "/repair" not in page  # a responder sees, an administrator repairs
        async with browser(k) as b:
            await sign_in(b, "alice")
            page = (await b.get("/settings/channels")).text
            done = await b.post("/settings/channels/log/repair", data={"csrf": form_csrf(page)})
            assert done.status_code == 303
            assert "working" in (await b.get(done.headers["location"])).text
        assert [(e.actor, e.via, e.object_id) for e in await _audit(k, "channels.repair")] == [
            ("alice", "ui", "log")
        ]


async def test_the_settings_pages_speak_the_persons_language(db_url, tmp_path):
    data = _config().model_dump(mode="json")
    data["people"][1]["language"] = "ja-JP"  # bob
    async with running_system(db_url, ConfigFile.model_validate(data), tmp_path) as k:
        await add_person(k, "bob")
        async with browser(k) as b:
            await sign_in(b, "bob")
            index = (await b.get("/settings")).text
            assert "人と連絡先" in index and "API トークン" in index and "監査ログ" not in index
            people = (await b.get("/settings/people")).text
            assert "YAML (読み取り専用)" in people and "コードとしての設定で管理" in people
