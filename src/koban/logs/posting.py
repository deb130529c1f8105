"""Post a rendered digest to a configured channel: Slack (incoming webhook or bot token) or a webhook.

Digests are not incidents, so they do not go through the incident delivery rows; they are guarded
by their own run row instead (``digests.py``). Answers are classified as the channels do: 2xx sent,
429/5xx transient, the rest permanent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from koban.core import outbound

SUPPORTED = ("slack", "webhook")


async def post(
    channel_type: str, settings: Mapping[str, Any], slack: dict[str, Any], doc: dict[str, Any]
) -> str:
    """Returns "sent", or raises ``PostError``."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if channel_type == "slack" and settings.get("webhook_url"):
        url, body = str(settings["webhook_url"]), slack
    elif channel_type == "slack":
        base = str(settings.get("base_url") or "https://slack.com/api/")
        url = base.rstrip("/") + "/chat.postMessage"
        headers["Authorization"] = f"Bearer {settings.get('token', '')}"
        body = {"channel": settings.get("channel"), **slack}
    elif channel_type == "webhook":
        url, body = str(settings["url"]), doc
        headers["Idempotency-Key"] = f"koban-digest-{doc['digest']}-{doc['run']}"
    else:
        raise PostError(f"channel type {channel_type!r} cannot take digests (use {', '.join(SUPPORTED)})")
    try:
        resp = await outbound.request("POST", url, headers=headers, body=json.dumps(body).encode())
    except outbound.OutboundError as exc:
        raise PostError(str(exc), transient=not exc.sent) from exc
    if resp.status >= 300:
        raise PostError(
            f"HTTP {resp.status}: {resp.text[:200]}", transient=resp.status == 429 or resp.status >= 500
        )
    if channel_type == "slack" and not settings.get("webhook_url"):
        answer = json.loads(resp.body or b"{}")
        if not answer.get("ok"):
            raise PostError(f"slack: {answer.get('error')}", transient=answer.get("error") == "ratelimited")
    return "sent"


class PostError(Exception):
    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
