"""The fake Slack's ``usergroups.users.update`` (kept apart from server.py: one method, one module).

Like Slack: the bot token is checked, ``usergroup`` must be a user group's ID (``S…``; anything
else is ``no_such_subteam``), ``users`` the comma-separated IDs of the whole new membership
(``U…``/``W…``; none is ``no_users_provided``, a malformed one ``invalid_users``). The answer holds
the group with its ``users``; ``fake.usergroups`` keeps each group's members, ``fake.requests``
the call, and ``fake.fail_next("usergroups.users.update", ...)`` scripts failures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from koban.fakes.slack.server import FakeSlack

METHOD = "usergroups.users.update"


def add_usergroups(app: web.Application, fake: FakeSlack) -> None:
    async def update(request: web.Request) -> web.Response:
        args = await fake._args(request)  # noqa: SLF001 - the fake's own helper
        if args is None:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        # slack_sdk sends this method's arguments in the query string, which Slack reads too.
        args = {**request.query, **args}
        failure = await fake._scripted(METHOD)  # noqa: SLF001
        if failure is not None:
            return fake._api_failure(failure)  # noqa: SLF001
        group = str(args.get("usergroup") or "")
        raw = args.get("users")
        users = raw if isinstance(raw, list) else [u.strip() for u in str(raw or "").split(",") if u.strip()]
        if not group:
            return web.json_response({"ok": False, "error": "missing_argument"})
        if not group.startswith("S"):
            return web.json_response({"ok": False, "error": "no_such_subteam"})
        if not users:
            return web.json_response({"ok": False, "error": "no_users_provided"})
        if any(not (u[:1] in "UW" and u.isalnum()) for u in users):
            return web.json_response({"ok": False, "error": "invalid_users"})
        fake.usergroups[group] = list(dict.fromkeys(users))
        body = {"id": group, "users": fake.usergroups[group], "user_count": len(fake.usergroups[group])}
        return web.json_response({"ok": True, "usergroup": body})

    app.router.add_post(f"/api/{METHOD}", update)
