"""Slack user-group sync: the people on call made the members of a user group (``@oncall-web``).

``usergroups.users.update`` with the user group's ID (``S…``) and the comma-separated Slack user
IDs that make up the *whole* new membership; the bot token needs the ``usergroups:write`` scope
(and, where the workspace restricts it, the right to edit user groups). Slack refuses an empty
list (``invalid_users``/``no_users_provided``): a gap leaves the group as it was
(paging/schedule_notices.py never asks for one). Answers are classified like any Slack call
(classify.py): rate limits and Slack's own failures are transient, the rest permanent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from koban.channels.base import DeliveryResult
from koban.channels.slack.classify import classify
from koban.channels.slack.settings import SlackSettings

DEFAULT_BASE_URL = "https://slack.com/api/"


async def set_members(config: Mapping[str, Any], usergroup: str, users: Sequence[str]) -> DeliveryResult:
    """Make ``users`` (Slack user IDs) the members of ``usergroup``, with a bot channel's ``config``."""
    if not config.get("token"):
        return DeliveryResult.broken("a user-group sync needs a Slack channel with a bot token")
    if not users:
        return DeliveryResult.permanent("slack: a user group cannot be emptied; left as it was")
    client = AsyncWebClient(
        token=str(config["token"]),
        base_url=str(config.get("base_url") or SlackSettings().api_base_url or DEFAULT_BASE_URL),
        timeout=config.get("timeout", 10),
        retry_handlers=[],  # retries belong to the notice queue
    )
    try:
        await client.usergroups_users_update(usergroup=usergroup, users=list(users))
    except SlackApiError as exc:
        resp = exc.response
        error = resp.get("error", "") if isinstance(resp.data, dict) else str(resp.data or "")
        return classify(resp.status_code, error, resp.headers)
    except (TimeoutError, aiohttp.ClientError) as exc:  # the same list again is harmless
        return DeliveryResult.transient(f"slack: {type(exc).__name__}: {exc}")
    return DeliveryResult.sent(usergroup)
