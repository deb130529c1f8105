"""A browser in process: a person with a password signs in through ``/login`` and keeps the cookie,
as a browser would (pages answer HTML to clients that ask for it)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import sqlalchemy as sa

from koban.auth.passwords import HASHER
from koban.auth.permissions import Role
from koban.auth.store import create_user
from koban.bootstrap.app import create_app
from koban.config.model import ConfigFile
from koban.db.schema_auth import audit_events
from tests.support.factories import KEY, make_config

PASSWORD = "correct horse battery staple"
HTML = {"accept": "text/html,application/xhtml+xml"}


def form_csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html) or re.search(r"name='csrf' value='([^']+)'", html)
    assert found, html
    return found.group(1)


async def add_person(k: Any, person: str, role: Role | None = None) -> None:
    async with k.db.begin() as conn:
        await create_user(conn, person, k.clock.now(), password_hash=HASHER.hash(PASSWORD), global_role=role)


def browser(k: Any, **headers: str) -> httpx.AsyncClient:
    app = create_app(k, manage_system=False)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://koban.test", headers={**HTML, **headers}
    )


async def sign_in(b: httpx.AsyncClient, person: str) -> None:
    form = await b.get("/login")
    done = await b.post(
        "/login", data={"csrf": form_csrf(form.text), "person": person, "password": PASSWORD, "next": "/"}
    )
    assert done.status_code == 303, done.text


async def open_incident(c: httpx.AsyncClient, summary: str, **alert: Any) -> int:
    r = await c.post(f"/api/v1/ingest/{KEY}", json={"summary": summary, **alert})
    assert r.status_code == 202, r.text
    return int(r.json()["incidents"][0]["incident_id"])


def ops_team_config() -> ConfigFile:
    """The factory's config with team ``ops`` (bob its responder): what the settings pages edit."""
    data = make_config().model_dump(mode="json")
    data["teams"] = [{"id": "ops", "members": [{"person": "bob", "role": "responder"}]}]
    return ConfigFile.model_validate(data)


async def audit_entries(k: Any, action: str) -> list[Any]:
    """The audit trail's entries of one action, oldest first."""
    async with k.db.read() as conn:
        q = sa.select(audit_events).where(audit_events.c.action == action).order_by(audit_events.c.id)
        return list((await conn.execute(q)).all())
