"""Every guarded route × every role × two teams (issue 12): each caller gets through (not 401/403)
exactly when its role, its team and its token allow what the route declares, and the manager of
another team is refused on team A's objects (403; lists answer 200 without them).

The requests are built from the route table: path parameters name team A's objects; bodies are
``{}``, which a route refuses with 422 only after its guard has let the caller in, so writes decide
access without changing anything. DELETEs run last, the callers allowed in last of all.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

import httpx

from koban.auth import api_tokens
from koban.auth.guard import guard_of
from koban.auth.permissions import Role, Scope
from koban.auth.store import create_token, create_user
from koban.bootstrap.app import create_app
from tests.api.test_route_access import _routes
from tests.support.factories import KEY, make_config
from tests.support.system import client, running_system

A, B = "team-a", "team-b"
READ, RESPOND, MANAGE = Scope.READ, Scope.RESPOND, Scope.MANAGE

# Who may do what, written out by hand (not through permissions.decide): (scope, owning team) -> in?
# Routes here touch team A's objects or objects no team owns (team None).
EXPECT: dict[str, Callable[[Scope, str | None], bool]] = {
    "admin": lambda scope, team: True,
    "viewer-a": lambda scope, team: scope == READ,
    "responder-a": lambda scope, team: scope <= (RESPOND if team == A else READ),
    "manager-a": lambda scope, team: scope <= (MANAGE if team == A else READ),
    "manager-b": lambda scope, team: scope == READ and team is None,
    # dana manages both teams, but this token of hers is limited to team B.
    "limited-to-b": lambda scope, team: scope == READ and team is None,
}
# (person, global role, {team: role}, token scope, token team)
CALLERS = {
    "manager-b": ("erin", None, {B: "manager"}, Scope.ADMIN, None),
    "limited-to-b": ("dana", None, {A: "manager", B: "manager"}, Scope.MANAGE, B),
    "viewer-a": ("frank", None, {A: "viewer"}, Scope.ADMIN, None),
    "responder-a": ("bob", None, {A: "responder"}, Scope.ADMIN, None),
    "manager-a": ("carol", None, {A: "manager"}, Scope.ADMIN, None),
    "admin": ("alice", Role.ADMIN, {}, Scope.ADMIN, None),
}
# What a path's {ident} names, by collection, and the team that owns it.
OBJECTS: dict[str, tuple[str, str | None]] = {
    "teams": (A, None),
    "people": ("alice", None),
    "rotations": ("a-rota", A),
    "channels": ("log", None),
    "policies": ("a-policy", A),
    "services": ("a-svc", A),
    "monitors": ("a-mon", A),
    "integrations": ("a-int", None),
    "heartbeats": ("a-hb", A),  # through its service
    "schedules": ("a-sched", A),
    "channel-status": ("log", None),
}


def _config() -> Any:
    base = make_config()
    data = base.model_dump(mode="json")
    data["people"] += [{"id": p, "name": p.title(), "notify": ["log"]} for p in ("dana", "erin", "frank")]
    members: dict[str, list[dict[str, str]]] = {A: [], B: []}
    for person, _role, teams, _scope, _team in CALLERS.values():
        for team, role in teams.items():
            members[team].append({"person": person, "role": role})
    data["teams"] = [{"id": team, "members": m} for team, m in members.items()]
    data["rotations"][0].update(id="a-rota", team=A)
    data["policies"][0].update(id="a-policy", team=A)
    data["policies"][0]["steps"][0]["notify"][0]["rotation"] = "a-rota"
    svc = data["services"][0]
    svc.update(id="a-svc", policy="a-policy", team=A)
    svc["integrations"][0]["id"] = "a-int"
    data["monitors"] = [{"id": "a-mon", "service": "a-svc", "target": "http://127.0.0.1:9/"}]
    data["heartbeats"] = [{"id": "a-hb", "service": "a-svc"}]
    layer = {"members": ["alice", "bob"], "start": "2027-01-04", "handoff": "09:00", "name": "week"}
    data["schedules"] = [{"id": "a-sched", "team": A, "timezone": "Asia/Tokyo", "layers": [layer]}]
    return type(base).model_validate(data)


async def _tokens(k: Any) -> dict[str, tuple[str, int]]:
    """Per caller: its token, and the id of a spare token of its own (for DELETE /tokens/{id})."""
    out = {}
    async with k.db.begin() as conn:
        now = k.clock.now()
        for name, (person, role, _teams, scope, team) in CALLERS.items():
            await create_user(conn, person, now, password_hash=None, global_role=role)
            issued = api_tokens.issue(secrets.token_bytes(24))
            await create_token(conn, issued, now, person_id=person, name=name, scope=scope, team_id=team)
            spare = api_tokens.issue(secrets.token_bytes(24))
            spare_id = await create_token(conn, spare, now, person_id=person, name="spare", scope=READ)
            out[name] = (issued.text, spare_id)
    return out


def _target(path: str, incident: str, spare_token: int) -> tuple[str, str | None]:
    """The URL naming team A's object, and the team that owns what it names."""
    parts = path.removeprefix("/api/v1/").split("/")
    ident, owner = OBJECTS.get(parts[0], ("x", None))  # silences, maintenance: no team owns them
    values = {
        "ident": ident,
        "incident_id": incident,
        "token_id": str(spare_token),
        "key_id": "1",
        "person": "alice",
        "contact": "phone",
        "override": "o-1",
        "swap_id": "1",
        "temporary": "t-1",
        "feed_id": str(spare_token),
        "run": "1",  # a digest run
        "action": "take",  # a swap page's decision
    }
    if "{incident_id}" in path:
        owner = A  # the incident of team A's service
    elif "{ident}" not in path:
        owner = None  # a list, or a new object
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path), owner


async def test_every_route_answers_each_role_and_team_as_it_declares(db_url, tmp_path):
    async with running_system(db_url, _config(), tmp_path) as k, client(k) as setup:
        made = await setup.post(f"/api/v1/ingest/{KEY}", json={"summary": "disk full", "dedup_key": "d"})
        incident = str(made.json()["incidents"][0]["incident_id"])
        tokens = await _tokens(k)
        app = create_app(k, manage_system=False)
        guarded = []
        for route in _routes(app):
            guard = guard_of(route) if hasattr(route, "dependant") else None
            if guard is not None and guard.scope is not None:
                guarded += [(method, route, guard) for method in sorted(route.methods - {"HEAD"})]
        # Deletes last (the objects stay for the rest), nested ones before what they are in.
        guarded.sort(key=lambda g: (g[0] == "DELETE", -g[1].path.count("/")))
        wrong: list[str] = []
        tried = 0
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://koban.test") as c:
            for method, route, guard in guarded:
                for caller, (token, spare) in tokens.items():
                    url, owner = _target(route.path, incident, spare)
                    team = owner if guard.team_of is not None else None
                    if owner is not None and team is None and guard.scope < Scope.ADMIN:
                        wrong.append(f"{method} {route.path} acts on a team's object without asking its team")
                    body = {} if method in ("POST", "PUT") else None
                    got = await c.request(
                        method, url, json=body, headers={"Authorization": f"Bearer {token}"}
                    )
                    tried += 1
                    let_in = got.status_code not in (401, 403)
                    if got.status_code == 401 or let_in != EXPECT[caller](guard.scope, team):
                        need = f"{guard.scope.name.lower()} in {team}"
                        wrong.append(
                            f"{method} {url} ({need}) as {caller}: {got.status_code} {got.text[:120]}"
                        )
        assert tried > 300
        assert wrong == [], "\n".join(wrong)


# The lists of what teams own, and the id of team A's object in each.
LISTS = {
    "/api/v1/incidents": "a-svc",
    "/api/v1/services": "a-svc",
    "/api/v1/policies": "a-policy",
    "/api/v1/rotations": "a-rota",
    "/api/v1/monitors": "a-mon",
}


async def test_lists_show_team_a_objects_only_to_whom_may_see_them(db_url, tmp_path):
    async with running_system(db_url, _config(), tmp_path) as k, client(k) as setup:
        await setup.post(f"/api/v1/ingest/{KEY}", json={"summary": "disk full", "dedup_key": "d"})
        tokens = await _tokens(k)
        shown = {}
        for caller, (token, _) in tokens.items():
            for path, marker in LISTS.items():
                got = await setup.get(path, headers={"Authorization": f"Bearer {token}"})
                assert got.status_code == 200, (caller, path, got.text)
                shown[caller, path] = marker in got.text
        for caller in tokens:
            # The lists are readable by all; team A's objects are in them for team A and admins.
            sees = caller in ("admin", "viewer-a", "responder-a", "manager-a")
            assert {p: shown[caller, p] for p in LISTS} == {p: sees for p in LISTS}, caller


async def test_silences_and_maintenance_belong_to_the_team_of_the_service_they_name(db_url, tmp_path):
    async with running_system(db_url, _config(), tmp_path) as k, client(k) as setup:
        tokens = await _tokens(k)

        def as_(caller: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens[caller][0]}"}

        silence = {"matchers": ['service="a-svc"'], "ends_at": "2099-01-01T00:00:00Z", "created_by": "bob"}
        everything = {**silence, "matchers": ['severity="critical"']}
        made = await setup.post("/api/v1/silences", json=silence, headers=as_("responder-a"))
        assert made.status_code == 201, made.text
        assert (
            await setup.post("/api/v1/silences", json=silence, headers=as_("manager-b"))
        ).status_code == 403
        assert (
            await setup.post("/api/v1/silences", json=everything, headers=as_("manager-a"))
        ).status_code == 403
        listed = await setup.get("/api/v1/silences", headers=as_("manager-b"))
        assert listed.json()["silences"] == []  # team A's silence is not team B's to see
        ident = made.json()["id"]
        assert (await setup.delete(f"/api/v1/silences/{ident}", headers=as_("manager-b"))).status_code == 403
        assert (
            await setup.delete(f"/api/v1/silences/{ident}", headers=as_("responder-a"))
        ).status_code == 200

        window = {
            "id": "w1",
            "services": ["a-svc"],
            "starts_at": "2099-01-01T00:00:00Z",
            "ends_at": "2099-01-02T00:00:00Z",
        }
        assert (
            await setup.post("/api/v1/maintenance", json=window, headers=as_("responder-a"))
        ).status_code == 403
        assert (
            await setup.post("/api/v1/maintenance", json=window, headers=as_("manager-a"))
        ).status_code == 201
        assert (await setup.delete("/api/v1/maintenance/w1", headers=as_("manager-b"))).status_code == 403
        assert (await setup.delete("/api/v1/maintenance/w1", headers=as_("manager-a"))).status_code == 204
