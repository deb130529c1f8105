"""Finding a message koban may already have posted, by the delivery key in its Slack message metadata.

chat.postMessage takes ``metadata={"event_type", "event_payload"}``; conversations.history returns it
with ``include_all_metadata``. Needs the ``channels:history`` (or ``groups:history``) scope; without it
the lookup fails permanently and the delivery is reported as such rather than posted blind twice.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

EVENT_TYPE = "koban_page"
HISTORY_LIMIT = 100  # a page in doubt is minutes old; the channel rarely sees 100 messages meanwhile
_CONVERSATION_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")


def is_conversation_id(destination: str) -> bool:
    """conversations.history needs an id; names (#alerts) and user ids (DMs) cannot be looked up."""
    return bool(_CONVERSATION_ID.match(destination))


def delivery_metadata(key: str) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key}}


def key_of(message: dict[str, Any]) -> str | None:
    meta = message.get("metadata") or {}
    if meta.get("event_type") != EVENT_TYPE:
        return None
    return (meta.get("event_payload") or {}).get("key")


async def find_posted(client: AsyncWebClient, channel: str, key: str) -> str | None:
    """The ``ts`` of our message carrying ``key`` among the channel's recent messages, or None."""
    resp = await client.conversations_history(channel=channel, limit=HISTORY_LIMIT, include_all_metadata=True)
    for message in resp.get("messages") or []:
        if key_of(message) == key:
            return str(message["ts"])
    return None
