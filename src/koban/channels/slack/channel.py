"""Slack channel through the official slack_sdk: incoming webhook (send only) or bot token
(chat.postMessage once, then chat.update in place plus a thread reply on every update).

Config keys (``Notification.config``): ``webhook_url`` *or* ``token`` + ``channel``; optional
``base_url`` (Web API root, for the fake), ``timeout`` (seconds), ``on_call`` (names shown),
``thread_updates`` (default true). The bot mode returns ``meta={"channel", "ts"}`` to store and pass
back as ``Notification.previous``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from koban.channels.base import DeliveryResult, DeliveryStatus, Notification
from koban.channels.slack.classify import GONE_MESSAGE_ERRORS, classify
from koban.channels.slack.lookup import delivery_metadata, find_posted, is_conversation_id
from koban.channels.slack.message import build_message, timeline_text, title
from koban.channels.slack.mrkdwn import esc
from koban.channels.slack.settings import SlackSettings

DEFAULT_BASE_URL = "https://slack.com/api/"
DEFAULT_TIMEOUT = 10


def _api_error(exc: SlackApiError, to_person: bool) -> DeliveryResult:
    resp = exc.response
    error = resp.get("error", "") if isinstance(resp.data, dict) else str(resp.data or "")
    return classify(resp.status_code, error, resp.headers, to_person=to_person)


def _network_error(exc: Exception, may_have_posted: bool) -> DeliveryResult:
    if isinstance(exc, aiohttp.ClientConnectorError) or not may_have_posted:
        return DeliveryResult.transient(f"slack: {type(exc).__name__}: {exc}")
    return DeliveryResult.in_doubt(f"slack: {type(exc).__name__}: {exc}")


class SlackChannel:
    kind: ClassVar[str] = "slack"

    def __init__(self, api_base_url: str | None = None) -> None:
        # A channel's own base_url wins; else KOBAN_SLACK_API_BASE_URL (the demo's fake); else Slack.
        self.api_base_url = api_base_url or SlackSettings().api_base_url or DEFAULT_BASE_URL

    async def send(self, notification: Notification) -> DeliveryResult:
        config = notification.config
        if config.get("token"):
            return await self._send_bot(notification)
        if config.get("webhook_url"):
            return await self._send_webhook(notification)
        return DeliveryResult.broken("slack channel needs a webhook_url or a token and channel")

    async def reconcile(self, notification: Notification, provider_ref: str | None) -> DeliveryResult:
        """Slack has no idempotency key, but a bot's first post carries the delivery key in its message
        metadata: look for it in the channel's recent history before posting again. Where that is not
        possible (webhook mode, a channel given by name) a possible duplicate beats a page nobody saw."""
        n = notification
        destination = str(n.recipient.address or n.config.get("channel") or "")
        if provider_ref or not n.config.get("token") or n.previous or not is_conversation_id(destination):
            return await self.send(n)
        client = self._client(n.config)
        try:
            found = await find_posted(client, destination, n.key)
        except SlackApiError as exc:
            answer = _api_error(exc, to_person=bool(n.recipient.address))
            if answer.status is DeliveryStatus.TRANSIENT:  # rate limited or down: look again later
                return DeliveryResult(
                    DeliveryStatus.IN_DOUBT, error=answer.error, retry_after=answer.retry_after
                )
            return await self.send(n)  # cannot look (e.g. no history scope): post rather than miss
        except (TimeoutError, aiohttp.ClientError) as exc:
            return DeliveryResult.in_doubt(f"slack: history lookup failed: {type(exc).__name__}: {exc}")
        if found is None:
            return DeliveryResult(DeliveryStatus.NOT_SENT)
        return DeliveryResult.sent(found, meta={"channel": destination, "ts": found})

    def _client(self, config: Mapping[str, Any]) -> AsyncWebClient:
        return AsyncWebClient(
            token=str(config["token"]),
            base_url=str(config.get("base_url") or self.api_base_url),
            timeout=config.get("timeout", DEFAULT_TIMEOUT),
            retry_handlers=[],  # retries belong to the delivery worker, which honours Retry-After
        )

    # -- bot token --------------------------------------------------------------------------------
    async def _send_bot(self, n: Notification) -> DeliveryResult:
        config = n.config
        client = self._client(config)
        message = build_message(n)
        channel_id, ts = n.previous.get("channel"), n.previous.get("ts")
        posting = False
        try:
            if channel_id and ts:
                updated = await self._update(client, str(channel_id), str(ts), message)
                if updated is not None:
                    if config.get("thread_updates", True):
                        posting = True
                        await client.chat_postMessage(
                            channel=str(channel_id), thread_ts=str(ts), text=timeline_text(n)
                        )
                    return updated
            # A page to a person goes to their DM (contacts.slack); a team target to the channel.
            destination = n.recipient.address or config.get("channel")
            if not destination:
                return DeliveryResult.broken("slack bot mode needs a channel")
            posting = True
            resp = await client.chat_postMessage(
                channel=str(destination), metadata=delivery_metadata(n.key), **message
            )
            return DeliveryResult.sent(resp["ts"], meta={"channel": resp["channel"], "ts": resp["ts"]})
        except SlackApiError as exc:
            return _api_error(exc, to_person=bool(n.recipient.address))
        except (TimeoutError, aiohttp.ClientError) as exc:
            return _network_error(exc, posting)

    @staticmethod
    async def _update(
        client: AsyncWebClient, channel_id: str, ts: str, message: dict[str, Any]
    ) -> DeliveryResult | None:
        """chat.update in place; None when the message can no longer be edited (post a new one)."""
        try:
            await client.chat_update(channel=channel_id, ts=ts, **message)
        except SlackApiError as exc:
            if exc.response.get("error") in GONE_MESSAGE_ERRORS:
                return None
            raise
        return DeliveryResult.sent(ts, meta={"channel": channel_id, "ts": ts})

    # -- incoming webhook -------------------------------------------------------------------------
    async def _send_webhook(self, n: Notification) -> DeliveryResult:
        client = AsyncWebhookClient(
            str(n.config["webhook_url"]),
            timeout=n.config.get("timeout", DEFAULT_TIMEOUT),
            retry_handlers=[],
        )
        if n.kind == "update" or n.previous:
            # A webhook cannot edit what it posted: say what changed in one line instead.
            body: dict[str, Any] = {
                "text": f"{timeline_text(n)} — {esc(title(n.incident, n.recipient.language))}"
            }
        else:
            body = build_message(n)
        try:
            resp = await client.send_dict(body)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return _network_error(exc, may_have_posted=True)
        if resp.status_code == 200 and resp.body == "ok":
            return DeliveryResult.sent(meta={"mode": "webhook"})
        return classify(resp.status_code, resp.body, resp.headers)  # the webhook fixes the destination
