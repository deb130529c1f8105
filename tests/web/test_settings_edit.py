"""Editing people, teams, channels and logins from the settings pages: the REST write path's
validation and audit (door "ui"), administrators only, CSRF on every form, what config as code
manages refused even when the form is forged, bad input answered in words with a 422."""

from __future__ import annotations

import sqlalchemy as sa

from koban.auth.permissions import Role
from koban.db.schema_auth import memberships, users
from tests.support.system import client, running_system
from tests.web.pages_support import add_person, audit_entries, browser, form_csrf, ops_team_config, sign_in

HOOK = {
    "id": "hook",
    "type": "webhook",
    "url": "http://127.0.0.1:9/in",
    "secret": "s3cr3t-v4lue",
    "timeout": 5,
}


def _person_form(csrf: str, **fields: str) -> dict[str, str]:
    return {"csrf": csrf, "name": "Dave", "timezone": "Asia/Tokyo", "language": "ja-JP", **fields}


async def test_an_administrator_adds_and_edits_a_person_through_the_rest_write_path(db_url, tmp_path):
    async with running_system(db_url, ops_team_config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        async with browser(k) as b:
            await sign_in(b, "alice")
            page = await b.get("/settings/people/new")
            assert page.status_code == 200 and 'name="timezone"' in page.text
            form = _person_form(form_csrf(page.text), id="dave", contacts="phone: +15550199\nemail: d@x.test")
            made = await b.post("/settings/people", data={**form, "notify": "log"})
            assert made.status_code == 303, made.text
            listed = await b.get(made.headers["location"])
            assert "dave is saved." in listed.text and 'href="/settings/people/dave/edit"' in listed.text
            edit = await b.get("/settings/people/dave/edit")
            assert "+15550199" in edit.text and "YAML" not in edit.text.split("<main", 1)[1]
            changed = await b.post(
                "/settings/people/dave", data=_person_form(form_csrf(edit.text), name="Dave K")
            )
            assert changed.status_code == 303, changed.text
        async with client(k) as api:  # the REST door sees what the page wrote
            dave = (await api.get("/api/v1/people/dave")).json()
        assert dave["name"] == "Dave K" and dave["timezone"] == "Asia/Tokyo" and dave["contacts"] == {}
        created, updated = await audit_entries(k, "people.create"), await audit_entries(k, "people.update")
        assert [(e.actor, e.via, e.object_id) for e in created + updated] == [
            ("alice", "ui", "dave"),
            ("alice", "ui", "dave"),
        ]
        assert updated[0].before["name"] == "Dave" and updated[0].after["name"] == "Dave K"


async def test_bad_input_is_answered_in_words_with_422_and_nothing_is_written(db_url, tmp_path):
    async with running_system(db_url, ops_team_config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        async with browser(k) as b:
            await sign_in(b, "alice")
            csrf = form_csrf((await b.get("/settings/people/new")).text)
            cases = [
                ({"id": "dave", "timezone": "Mars/Olympus"}, "Pick a time zone from the list."),
                ({"id": "dave", "contacts": "no colon here"}, "Write each contact on its own line"),
                ({"id": "bad id!"}, "ids are letters, digits"),
                ({"id": "alice"}, "That id is taken."),
                (
                    {"id": "dave", "notify": "nowhere"},
                    "unknown channel &#39;nowhere&#39;",
                ),  # cross-references
            ]
            for fields, words in cases:
                r = await b.post("/settings/people", data=_person_form(csrf, **fields))
                assert r.status_code == 422 and words in r.text, (fields, r.status_code)
            assert (
                await b.post("/settings/teams/nope", data={"csrf": csrf, "role:bob": "admin"})
            ).status_code == 404
            bad_role = await b.post("/settings/people/bob/login", data={"csrf": csrf, "global_role": "root"})
            assert bad_role.status_code == 422 and "Pick a role." in bad_role.text
        assert await audit_entries(k, "people.create") == []
        async with client(k) as api:
            assert (await api.get("/api/v1/people/dave")).status_code == 404


async def test_what_the_yaml_manages_is_read_only_and_a_forged_form_is_refused(db_url, tmp_path):
    async with running_system(db_url, ops_team_config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        async with browser(k) as b:
            await sign_in(b, "alice")
            for path in (
                "/settings/people/bob/edit",
                "/settings/teams/ops/edit",
                "/settings/channels/log/edit",
            ):
                page = await b.get(path)
                assert page.status_code == 200 and "managed by config as code" in page.text, path
                assert f'action="{path.removesuffix("/edit")}"' not in page.text, path
            csrf = form_csrf((await b.get("/settings/people/bob/edit")).text)  # the login form's
            forged = [
                ("/settings/people/bob", _person_form(csrf)),
                ("/settings/teams/ops", {"csrf": csrf, "role:alice": "admin"}),
                ("/settings/channels/log", {"csrf": csrf, "name": "mine"}),
            ]
            for path, data in forged:
                r = await b.post(path, data=data)
                assert r.status_code == 409 and "managed by config as code" in r.text, (path, r.status_code)
        assert [await audit_entries(k, f"{kind}.update") for kind in ("people", "teams", "channels")] == [
            [],
            [],
            [],
        ]
        async with k.db.read() as conn:
            rows = (await conn.execute(sa.select(memberships.c.person_id))).scalars().all()
        assert rows == ["bob"]


async def test_only_administrators_edit_and_every_form_needs_its_csrf_token(db_url, tmp_path):
    async with running_system(db_url, ops_team_config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        await add_person(k, "bob")
        async with browser(k) as b:
            await sign_in(b, "bob")  # a responder of team ops
            people = await b.get("/settings/people")
            assert "/settings/people/new" not in people.text and "/edit" not in people.text
            csrf = form_csrf((await b.get("/settings/tokens")).text)
            for path in ("/settings/people/new", "/settings/people/carol/edit", "/settings/teams/ops/edit"):
                assert (await b.get(path)).status_code == 403, path
            for path in ("/settings/people", "/settings/people/carol", "/settings/people/bob/login"):
                assert (await b.post(path, data=_person_form(csrf, id="x"))).status_code == 403, path
        async with browser(k) as b:
            await sign_in(b, "alice")
            assert "/settings/people/new" in (await b.get("/settings/people")).text
            for path in (
                "/settings/people",
                "/settings/teams/ops",
                "/settings/channels/log",
                "/settings/people/bob/login",
            ):
                r = await b.post(path, data=_person_form("", id="x"))
                assert r.status_code == 403, path
        assert await audit_entries(k, "people.create") == [] and await audit_entries(k, "user.update") == []


async def test_a_teams_members_and_a_channels_settings_are_edited_secrets_write_only(db_url, tmp_path):
    async with running_system(db_url, ops_team_config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        async with client(k) as api:  # made through the REST API: not the file's
            assert (await api.put("/api/v1/teams/db", json={"id": "db"})).status_code == 200
            assert (await api.put("/api/v1/channels/hook", json=HOOK)).status_code == 200
        async with browser(k) as b:
            await sign_in(b, "alice")
            team = await b.get("/settings/teams/db/edit")
            saved = await b.post(
                "/settings/teams/db",
                data={"csrf": form_csrf(team.text), "role:carol": "manager", "role:bob": ""},
            )
            assert saved.status_code == 303, saved.text
            page = await b.get("/settings/channels/hook/edit")
            assert "s3cr3t-v4lue" not in page.text and 'type="password"' in page.text
            data = {"csrf": form_csrf(page.text), "name": "Hook", "s:url": "http://127.0.0.1:9/v2"}
            kept = await b.post("/settings/channels/hook", data={**data, "s:secret": "", "s:timeout": "7"})
            assert kept.status_code == 303, kept.text
            bad = await b.post("/settings/channels/hook", data={**data, "s:timeout": "{oops"})
            assert bad.status_code == 422 and "does not read as JSON" in bad.text
        async with k.db.read() as conn:
            q = sa.select(memberships.c.person_id, memberships.c.role).where(memberships.c.team_id == "db")
            assert (await conn.execute(q)).all() == [("carol", "manager")]
        hook = k.catalog.channels["hook"]
        assert hook.settings() == {"url": "http://127.0.0.1:9/v2", "secret": "s3cr3t-v4lue", "timeout": 7}
        (entry,) = await audit_entries(k, "channels.update")
        assert entry.via == "ui" and entry.after["secret"] == "********" and "s3cr3t" not in str(entry.before)
        assert [e.via for e in await audit_entries(k, "teams.update")] == ["ui"]


async def test_an_administrator_disables_a_login_and_cannot_lock_themselves_out(db_url, tmp_path):
    async with running_system(db_url, ops_team_config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        await add_person(k, "bob")
        async with browser(k) as bob:
            await sign_in(bob, "bob")
            assert (await bob.get("/settings/people")).status_code == 200
            async with browser(k) as b:
                await sign_in(b, "alice")
                page = await b.get("/settings/people/bob/edit")  # the YAML's person: their login still edits
                csrf = form_csrf(page.text)
                r = await b.post(
                    "/settings/people/bob/login",
                    data={"csrf": csrf, "global_role": "manager", "disabled": "on"},
                )
                assert r.status_code == 303, r.text
                own = await b.post("/settings/people/alice/login", data={"csrf": csrf, "global_role": ""})
                assert own.status_code == 409 and "ask another administrator" in own.text
            k.clock.advance(2)  # past bob's app's one-second guard cache (alice's forgot him at once)
            assert (await bob.get("/settings/people")).status_code == 303  # signed out: to the sign-in page
        async with k.db.read() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.person_id == "bob"))).one()
        assert row.disabled and row.global_role == "manager"
        (entry,) = await audit_entries(k, "user.update")
        assert (entry.actor, entry.via, entry.after) == (
            "alice",
            "ui",
            {"global_role": "manager", "disabled": True},
        )
