"""Adding and deleting teams and channels from the settings pages: administrators only, the CSRF
token on every form, the REST write path's validation and audit (door "ui"), a delete asked for on
its own page and refused in words (409) while other objects still name the team or channel, and
what config as code manages refused even when the form is forged."""

from __future__ import annotations

import sqlalchemy as sa

from koban.auth.permissions import Role
from koban.db.schema_auth import memberships
from tests.support.system import client, running_system
from tests.web.pages_support import add_person, audit_entries, browser, form_csrf, ops_team_config, sign_in


async def test_an_administrator_adds_a_team_and_a_channel_and_deletes_them(db_url, tmp_path):
    async with running_system(db_url, ops_team_config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        async with browser(k) as b:
            await sign_in(b, "alice")
            teams = await b.get("/settings/teams")
            assert 'href="/settings/teams/new"' in teams.text
            page = await b.get("/settings/teams/new")
            assert page.status_code == 200 and 'name="id"' in page.text and 'name="role:carol"' in page.text
            made = await b.post(
                "/settings/teams",
                data={"csrf": form_csrf(page.text), "id": "db", "name": "Databases", "role:carol": "manager"},
            )
            assert made.status_code == 303, made.text
            listed = await b.get(made.headers["location"])
            assert "db is saved." in listed.text and 'href="/settings/teams/db/delete"' in listed.text
            page = await b.get("/settings/channels/new")
            assert page.status_code == 200 and '<option value="webhook">' in page.text
            settings = '{"url": "http://127.0.0.1:9/in", "secret": "s3cr3t-v4lue", "timeout": 5}'
            made = await b.post(
                "/settings/channels",
                data={"csrf": form_csrf(page.text), "id": "hook", "type": "webhook", "settings": settings},
            )
            assert made.status_code == 303, made.text
            listed = await b.get("/settings/channels")
            assert 'href="/settings/channels/hook/delete"' in listed.text and "s3cr3t" not in listed.text
            async with client(k) as api:  # the REST door sees what the pages wrote
                assert (await api.get("/api/v1/teams/db")).json()["name"] == "Databases"
                hook = (await api.get("/api/v1/channels/hook")).json()
                assert hook["type"] == "webhook" and hook["url"] == "http://127.0.0.1:9/in"
            async with k.db.read() as conn:
                q = sa.select(memberships.c.person_id, memberships.c.role).where(
                    memberships.c.team_id == "db"
                )
                assert (await conn.execute(q)).all() == [("carol", "manager")]
            for kind, ident in (("teams", "db"), ("channels", "hook")):
                ask = await b.get(f"/settings/{kind}/{ident}/delete")
                assert ask.status_code == 200 and f'action="/settings/{kind}/{ident}/delete"' in ask.text
                gone = await b.post(f"/settings/{kind}/{ident}/delete", data={"csrf": form_csrf(ask.text)})
                assert gone.status_code == 303, gone.text
                assert f"{ident} is deleted." in (await b.get(gone.headers["location"])).text
                assert (await b.get(f"/settings/{kind}/{ident}/delete")).status_code == 404
        assert "db" not in k.catalog.teams and "hook" not in k.catalog.channels
        for action, ident in (
            ("teams.create", "db"),
            ("teams.delete", "db"),
            ("channels.create", "hook"),
            ("channels.delete", "hook"),
        ):
            (entry,) = await audit_entries(k, action)
            assert (entry.actor, entry.via, entry.object_id) == ("alice", "ui", ident), action
        (made_entry,) = await audit_entries(k, "channels.create")
        assert made_entry.after["secret"] == "********"


async def test_a_delete_is_refused_in_words_while_other_objects_name_it(db_url, tmp_path):
    async with running_system(db_url, ops_team_config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        async with client(k) as api:  # made through the REST API: not the file's, so deletable
            assert (await api.put("/api/v1/teams/db", json={"id": "db"})).status_code == 200
            hook = {"id": "hook", "type": "webhook", "url": "http://127.0.0.1:9/in"}
            assert (await api.put("/api/v1/channels/hook", json=hook)).status_code == 200
            policy = (await api.get("/api/v1/policies/default")).json()
            policy["steps"][1]["notify"].append({"channel": "hook"})
            assert (await api.put("/api/v1/policies/default", json=policy)).status_code == 200
            web = (await api.get("/api/v1/services/web")).json()
            assert (await api.put("/api/v1/services/web", json={**web, "team": "db"})).status_code == 200
        async with browser(k) as b:
            await sign_in(b, "alice")
            for kind, ident, holder in (("teams", "db", "web"), ("channels", "hook", "default")):
                csrf = form_csrf((await b.get(f"/settings/{kind}/{ident}/delete")).text)
                refused = await b.post(f"/settings/{kind}/{ident}/delete", data={"csrf": csrf})
                assert refused.status_code == 409, (kind, refused.text)
                assert "Other objects still name it" in refused.text
                assert f"<code>{holder}</code>" in refused.text
        assert "db" in k.catalog.teams and "hook" in k.catalog.channels
        assert (
            await audit_entries(k, "teams.delete") == [] and await audit_entries(k, "channels.delete") == []
        )


async def test_what_the_yaml_manages_is_not_deleted_even_by_a_forged_form(db_url, tmp_path):
    async with running_system(db_url, ops_team_config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        async with browser(k) as b:
            await sign_in(b, "alice")
            teams = await b.get("/settings/teams")
            assert "/settings/teams/ops/delete" not in teams.text
            ask = await b.get("/settings/teams/ops/delete")
            assert (
                ask.status_code == 200
                and "config as code" in ask.text
                and "/delete" not in ask.text.split("<main", 1)[1]
            )
            csrf = form_csrf((await b.get("/settings/tokens")).text)
            for path in ("/settings/teams/ops/delete", "/settings/channels/log/delete"):
                r = await b.post(path, data={"csrf": csrf})
                assert r.status_code == 409 and "managed by config as code" in r.text, path
        assert "ops" in k.catalog.teams and "log" in k.catalog.channels


async def test_bad_input_to_the_new_forms_is_answered_in_words_with_422(db_url, tmp_path):
    async with running_system(db_url, ops_team_config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        async with browser(k) as b:
            await sign_in(b, "alice")
            csrf = form_csrf((await b.get("/settings/channels/new")).text)
            cases = [
                ("/settings/channels", {"id": "x", "type": "carrier-pigeon"}, "Pick a channel type."),
                (
                    "/settings/channels",
                    {"id": "x", "type": "webhook", "settings": "{oops"},
                    "does not read as JSON",
                ),
                ("/settings/channels", {"id": "x", "type": "webhook", "settings": "[1]"}, "one JSON object"),
                (
                    "/settings/channels",
                    {"id": "x", "type": "webhook", "settings": '{"type": "sms"}'},
                    "their own fields",
                ),
                ("/settings/channels", {"id": "log", "type": "console"}, "That id is taken."),
                ("/settings/channels", {"id": "bad id!", "type": "console"}, "ids are letters, digits"),
                ("/settings/teams", {"id": "ops"}, "That id is taken."),
                ("/settings/teams", {"id": "db", "role:zed": "admin"}, "No such person."),
                ("/settings/teams", {"id": "db", "role:bob": "boss"}, "Pick a role."),
            ]
            for path, fields, words in cases:
                r = await b.post(path, data={"csrf": csrf, **fields})
                assert r.status_code == 422 and words in r.text, (fields, r.status_code)
            assert (await b.get("/settings/teams/nope/delete")).status_code == 404
            assert (await b.post("/settings/channels/nope/delete", data={"csrf": csrf})).status_code == 404
        assert (
            await audit_entries(k, "teams.create") == [] and await audit_entries(k, "channels.create") == []
        )


async def test_only_administrators_add_or_delete_and_every_form_needs_its_csrf_token(db_url, tmp_path):
    async with running_system(db_url, ops_team_config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        await add_person(k, "bob")
        async with client(k) as api:
            assert (await api.put("/api/v1/teams/db", json={"id": "db"})).status_code == 200
        async with browser(k) as b:
            await sign_in(b, "bob")  # a responder of team ops
            teams = await b.get("/settings/teams")
            assert "/settings/teams/new" not in teams.text and "/delete" not in teams.text
            assert "/settings/channels/new" not in (await b.get("/settings/channels")).text
            csrf = form_csrf((await b.get("/settings/tokens")).text)
            for path in ("/settings/teams/new", "/settings/channels/new", "/settings/teams/db/delete"):
                assert (await b.get(path)).status_code == 403, path
            for path in ("/settings/teams", "/settings/channels", "/settings/teams/db/delete"):
                r = await b.post(path, data={"csrf": csrf, "id": "x", "type": "console"})
                assert r.status_code == 403, path
        async with browser(k) as b:
            await sign_in(b, "alice")
            for path in ("/settings/teams", "/settings/channels", "/settings/teams/db/delete"):
                r = await b.post(path, data={"id": "x", "type": "console"})  # no CSRF token
                assert r.status_code == 403, path
        assert "db" in k.catalog.teams and "x" not in k.catalog.teams and "x" not in k.catalog.channels
        made = [e.via for e in await audit_entries(k, "teams.create")]
        assert made == ["api"] and await audit_entries(k, "teams.delete") == []  # the REST PUT above only
