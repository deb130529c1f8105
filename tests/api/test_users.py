"""Logins through the REST API: an administrator gives a person a login and takes it away; anyone
changes their own password with the current one; every change is on the audit trail."""

from __future__ import annotations

from koban.auth import api_tokens
from koban.auth.permissions import Scope
from koban.auth.store import create_token
from tests.support.factories import make_config
from tests.support.system import client, running_system

PASSWORD = "a long enough passphrase"


async def _token(k, person: str, scope: Scope = Scope.READ) -> dict[str, str]:
    issued = api_tokens.issue(person.encode().ljust(24, b"-"))
    async with k.db.begin() as conn:
        await create_token(conn, issued, k.clock.now(), person_id=person, name="t", scope=scope)
    return {"Authorization": f"Bearer {issued.text}"}


async def test_an_administrator_gives_a_login_changes_it_and_disables_it(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as admin:
        made = await admin.put("/api/v1/users/bob", json={"global_role": "responder", "password": PASSWORD})
        assert made.status_code == 200, made.text
        assert made.json()["password"] is True and "hash" not in made.text and PASSWORD not in made.text
        assert (await admin.put("/api/v1/users/nobody", json={})).status_code == 404
        weak = await admin.put("/api/v1/users/carol", json={"password": "short"})
        assert weak.status_code == 422 and "12 characters" in weak.text
        bob = await _token(k, "bob")
        assert (await admin.get("/api/v1/incidents", headers=bob)).status_code == 200
        assert (await admin.get("/api/v1/users", headers=bob)).status_code == 403  # admins only
        listed = (await admin.get("/api/v1/users")).json()["users"]
        assert {u["person"]: u["global_role"] for u in listed}["bob"] == "responder"
        assert (await admin.put("/api/v1/users/bob", json={"disabled": True})).status_code == 200
        k.clock.advance(1.1)  # every instance's cache forgets within a second
        assert (await admin.get("/api/v1/incidents", headers=bob)).status_code == 401
        me = (await admin.get("/api/v1/me")).json()["person"]
        assert (await admin.put(f"/api/v1/users/{me}", json={"disabled": True})).status_code == 409
        trail = (await admin.get("/api/v1/audit", params={"kind": "person"})).json()
        actions = [e["action"] for e in trail["entries"]]
        assert {"user.create", "user.update"} <= set(actions)
        assert PASSWORD not in str(trail)


async def test_a_person_changes_their_own_password_only_with_the_current_one(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as admin:
        await admin.put("/api/v1/users/bob", json={"password": PASSWORD})
        await admin.put("/api/v1/users/carol", json={"password": PASSWORD})
        bob = await _token(k, "bob")
        url = "/api/v1/users/bob/password"
        wrong = await admin.post(
            url, json={"current": "not it at all!", "new": "another passphrase"}, headers=bob
        )
        assert wrong.status_code == 403
        ok = await admin.post(url, json={"current": PASSWORD, "new": "another passphrase"}, headers=bob)
        assert ok.status_code == 200, ok.text
        other = await admin.post(
            "/api/v1/users/carol/password", json={"current": PASSWORD, "new": "x" * 20}, headers=bob
        )
        assert other.status_code == 403  # someone else's: administrators only
        assert (await admin.post("/api/v1/users/carol/password", json={"new": "y" * 20})).status_code == 200
