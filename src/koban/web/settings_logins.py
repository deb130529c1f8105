"""A person's login from their settings page, for administrators: its role everywhere and whether
it is disabled, by the REST API's function (``auth/login_admin.set_login``, which
``PUT /api/v1/users/{person}`` calls): the same audit entry (door "ui"), the same end of a disabled
person's sessions, the same refusal to lock oneself out. Logins are not config objects, so a
person the YAML manages still has their login changed here. Passwords are not set from this page.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from starlette.requests import Request

from koban.auth.guard import cache_of
from koban.auth.login_admin import LoginRefused, LoginUpdate, set_login
from koban.auth.permissions import Role
from koban.db.schema_auth import users
from koban.web.deps import deps_of
from koban.web.i18n import N_
from koban.web.incidents_list import origin_of
from koban.web.settings_forms import ROLES

# The words a page shows for each refusal of ``set_login`` (its own message is the API's English).
REFUSALS = {
    409: N_("You cannot lower or disable your own login: ask another administrator."),
    404: N_("No such person."),
}


async def login_of(request: Request, person: str) -> Any:
    async with deps_of(request).db.read() as conn:
        return (await conn.execute(sa.select(users).where(users.c.person_id == person))).first()


def read_login(form: dict[str, str]) -> LoginUpdate | str:
    """The login form (a role everywhere or none, disabled or not); no password from this page."""
    role = form.get("global_role", "")
    if role and role not in ROLES:
        return N_("Pick a role.")
    return LoginUpdate(Role.parse(role) if role else None, disabled=form.get("disabled") == "on")


async def change_login(request: Request, person: str, change: LoginUpdate) -> tuple[int, str] | None:
    """Write it as the REST route does; a refusal as (status, words), else None."""
    deps = deps_of(request)
    try:
        async with deps.db.begin() as conn:
            await set_login(conn, origin_of(request), deps.clock.now(), person, change)
    except LoginRefused as exc:
        return exc.status, REFUSALS[exc.status]
    cache_of(request.app.state).forget_sessions(person)  # a disabled person's pages stop at once
    request.app.state.has_users = True
    return None
