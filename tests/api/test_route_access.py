"""Every route of the application says who may call it (issue 12): a guarded route refuses an
anonymous caller and a token without the scope it needs; an open one says why it is open."""

from __future__ import annotations

import re

import httpx
from starlette.routing import Route

from koban.auth import api_tokens
from koban.auth.guard import guard_of
from koban.auth.permissions import Role, Scope
from koban.auth.store import create_token, create_user
from koban.bootstrap.app import create_app
from tests.support.factories import make_config
from tests.support.system import client, running_system

# Routes outside FastAPI's dependency system, each with why it needs no login.
OPEN = {
    "/api/v1/ingest": "alert senders prove themselves with an integration key",
    "/api/v1/ingest/{key}": "the integration key is in the path",
    "/api/v1/ingest/{key}/api/v2/alerts": "the integration key is in the path",
    "/api/v2/alerts": "Prometheus posts here with an integration key",
    "/v2/enqueue": "PagerDuty Events v2 senders carry a routing key",
    "/v2/change/enqueue": "PagerDuty change events carry a routing key",
    "/l/{token}": "a signed, single-use link is its own proof",
    "/integrations/slack/interactivity": "Slack signs every request (X-Slack-Signature)",
    "/twilio/voice/twiml": "Twilio signs every request (X-Twilio-Signature)",
    "/twilio/voice/gather": "Twilio signs every request (X-Twilio-Signature)",
    "/twilio/voice/status": "Twilio signs every request (X-Twilio-Signature)",
    "/twilio/sms/inbound": "Twilio signs every request (X-Twilio-Signature)",
    "/openapi.json": "the API's description, public as any API reference",
    "/docs": "the API's description, public as any API reference",
    "/docs/oauth2-redirect": "part of the API reference page",
    "/redoc": "the API's description, public as any API reference",
}
SAMPLE = {
    "ident": "x",
    "incident_id": "1",
    "token_id": "1",
    "key": "k",
    "key_id": "1",
    "person": "alice",
    "contact": "phone",
    "override": "o-1",
    "swap_id": "1",
    "temporary": "t-1",
    "feed_id": "1",
    "run": "1",
    "action": "take",
}


def _routes(app) -> list:
    """Every route, including those of routers FastAPI includes lazily (``original_router``)."""

    def walk(routes: list) -> list:
        out = []
        for r in routes:
            inner = getattr(r, "original_router", None)
            out += walk(inner.routes) if inner is not None else [r] if isinstance(r, Route) else []
        return out

    found = walk(app.routes)
    assert len(found) > 60, "the walk missed routers: FastAPI's routing changed?"
    return found


def _url(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: SAMPLE[m.group(1)], path)


async def test_every_route_declares_who_may_call_it(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        app = create_app(k, manage_system=False)
        undeclared = []
        for route in _routes(app):
            if hasattr(route, "dependant"):
                if guard_of(route) is None:
                    undeclared.append(route.path)
            elif route.path not in OPEN:
                undeclared.append(route.path)
        assert undeclared == [], "routes that say nothing of who may call them"


async def test_guarded_routes_refuse_anonymous_callers_and_tokens_without_the_scope(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        app = create_app(k, manage_system=False)
        issued = api_tokens.issue(b"\x09" * 24)
        async with k.db.begin() as conn:
            await create_user(conn, "alice", k.clock.now(), password_hash=None, global_role=Role.VIEWER)
            await create_token(conn, issued, k.clock.now(), person_id="alice", name="ro", scope=Scope.READ)
        viewer = {"Authorization": f"Bearer {issued.text}"}
        transport = httpx.ASGITransport(app=app)
        wrong: list[str] = []
        async with httpx.AsyncClient(transport=transport, base_url="http://koban.test") as c:
            for route in _routes(app):
                guard = guard_of(route) if hasattr(route, "dependant") else None
                if guard is None or guard.scope is None:
                    continue
                for method in sorted(route.methods - {"HEAD"}):
                    url = _url(route.path)
                    anonymous = await c.request(method, url)
                    if anonymous.status_code != 401 or "WWW-Authenticate" not in anonymous.headers:
                        wrong.append(f"{method} {route.path}: anonymous got {anonymous.status_code}")
                    if guard.scope > Scope.READ:
                        as_viewer = await c.request(method, url, headers=viewer)
                        if as_viewer.status_code != 403:
                            wrong.append(f"{method} {route.path}: a viewer got {as_viewer.status_code}")
        assert wrong == []


async def test_a_fresh_install_says_how_to_make_the_first_administrator(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k, admin=False) as c:
        assert (await c.get("/healthz")).status_code == 200
        refused = await c.get("/api/v1/incidents")
        assert refused.status_code == 401 and "koban user create PERSON --admin" in refused.json()["detail"]


async def test_a_rest_change_is_on_the_audit_trail_with_who_and_before_and_after(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as c:
        body = {"id": "default", "steps": [{"notify": [{"person": "carol", "via": ["log"]}]}], "repeat": 2}
        assert (await c.put("/api/v1/policies/default", json=body)).status_code == 200
        [entry] = (await c.get("/api/v1/audit", params={"kind": "policies"})).json()["entries"]
        assert (entry["person"], entry["via"], entry["action"]) == ("test-admin", "api", "policies.update")
        assert entry["object"] == {"kind": "policies", "id": "default"} and entry["token_id"] == 1
        assert (entry["before"]["repeat"], entry["after"]["repeat"]) == (0, 2)
        assert entry["ip"] == "127.0.0.1" and entry["user_agent"].startswith("python-httpx")


async def test_an_acknowledgement_is_recorded_as_the_caller_and_on_the_audit_trail(db_url, tmp_path):
    from tests.support.factories import KEY

    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as admin:
        r = await admin.post(f"/api/v1/ingest/{KEY}", json={"summary": "disk full", "dedup_key": "d"})
        incident = r.json()["incidents"][0]["incident_id"]
        issued = api_tokens.issue(b"\x0a" * 24)
        async with k.db.begin() as conn:
            await create_user(conn, "bob", k.clock.now(), password_hash=None, global_role=Role.RESPONDER)
            bob_token = await create_token(
                conn, issued, k.clock.now(), person_id="bob", name="b", scope=Scope.RESPOND
            )
        bob = {"Authorization": f"Bearer {issued.text}"}
        pretend = await admin.post(
            f"/api/v1/incidents/{incident}/acknowledge", json={"actor": "carol"}, headers=bob
        )
        assert pretend.status_code == 403  # only an administrator may act in someone else's name
        done = await admin.post(f"/api/v1/incidents/{incident}/acknowledge", headers=bob)
        assert done.status_code == 200
        shown = (await admin.get(f"/api/v1/incidents/{incident}")).json()
        assert shown["acknowledged_by"] == "bob"
        [entry] = (await admin.get("/api/v1/audit", params={"kind": "incident"})).json()["entries"]
        assert (entry["person"], entry["action"]) == ("bob", "incident.acknowledge")
        assert entry["token_id"] == bob_token
        assert (entry["before"], entry["after"]) == ({"status": "triggered"}, {"status": "acknowledged"})


async def test_people_manage_their_own_tokens_and_administrators_everyones(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as admin:
        made = await admin.post(
            "/api/v1/tokens", json={"name": "for bob", "person": "bob", "scope": "respond"}
        )
        assert made.status_code == 201
        async with k.db.begin() as conn:
            await create_user(conn, "bob", k.clock.now(), password_hash=None, global_role=Role.RESPONDER)
        bob = {"Authorization": f"Bearer {made.json()['token']}"}
        own = await admin.post("/api/v1/tokens", json={"name": "laptop"}, headers=bob)
        assert own.status_code == 201
        for_carol = await admin.post("/api/v1/tokens", json={"name": "x", "person": "carol"}, headers=bob)
        assert for_carol.status_code == 403
        listed = (await admin.get("/api/v1/tokens", headers=bob)).json()["tokens"]
        assert {t["person"] for t in listed} == {"bob"} and len(listed) == 2
        assert len((await admin.get("/api/v1/tokens")).json()["tokens"]) == 3  # the admin's own too
        admins = [
            t["id"]
            for t in (await admin.get("/api/v1/tokens")).json()["tokens"]
            if t["person"] == "test-admin"
        ]
        assert (
            await admin.delete(f"/api/v1/tokens/{admins[0]}", headers=bob)
        ).status_code == 404  # not told it exists
        assert (await admin.delete(f"/api/v1/tokens/{own.json()['id']}", headers=bob)).status_code == 200
        k.clock.advance(1.0)
        assert (await admin.get("/api/v1/tokens", headers=bob)).status_code == 200  # bob's first token lives


async def test_the_openapi_document_says_what_each_operation_needs(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k, admin=False) as c:
        spec = (await c.get("/openapi.json")).json()
        ack = spec["paths"]["/api/v1/incidents/{incident_id}/acknowledge"]["post"]
        assert (
            ack["security"] == [{"apiToken": []}]
            and "Needs: respond in the owning team." in ack["description"]
        )
        assert {"401", "403"} <= set(ack["responses"])
        assert "security" not in spec["paths"]["/healthz"]["get"]
        assert spec["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"


async def test_a_team_member_lists_only_what_their_teams_own(db_url, tmp_path):
    from tests.support.factories import KEY

    base = make_config()
    data = base.model_dump(mode="json")
    data["teams"] = [{"id": "web", "members": [{"person": "bob", "role": "responder"}]}, {"id": "db"}]
    data["services"][0]["team"] = "db"  # the one service, and its incidents, belong to db
    data["policies"][0]["team"] = "web"
    cfg = base.model_validate(data)
    async with running_system(db_url, cfg, tmp_path) as k, client(k) as admin:
        await admin.post(f"/api/v1/ingest/{KEY}", json={"summary": "disk full", "dedup_key": "d"})
        issued = api_tokens.issue(b"\x0b" * 24)
        async with k.db.begin() as conn:
            await create_user(conn, "bob", k.clock.now(), password_hash=None, global_role=None)
            await create_token(conn, issued, k.clock.now(), person_id="bob", name="b", scope=Scope.RESPOND)
        bob = {"Authorization": f"Bearer {issued.text}"}
        assert len((await admin.get("/api/v1/incidents")).json()["incidents"]) == 1
        assert (await admin.get("/api/v1/incidents", headers=bob)).json()["incidents"] == []
        assert [p["id"] for p in (await admin.get("/api/v1/policies", headers=bob)).json()["policies"]] == [
            "default"
        ]
        assert (await admin.get("/api/v1/services", headers=bob)).json()["services"] == []
        assert (await admin.get("/api/v1/incidents/1", headers=bob)).status_code == 403
