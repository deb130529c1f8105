"""A digest's post to one channel: Slack (incoming webhook or bot token), a webhook, or email (HTML
and text, to the digest's ``email_to``, through the email channel's SMTP settings).

``render`` makes the post's payload once, when the run queues its ``digest_posts`` row
(``digest_posts.py``), so a retry posts the same words; ``send`` posts it and classifies the answer
as the channels do, into a ``DeliveryResult``: 2xx sent; 429, 5xx, or no connection transient;
a request that may have reached the receiver in doubt; the rest permanent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from koban.channels.base import DeliveryResult
from koban.channels.email.channel import SmtpFailed, deliver
from koban.channels.email.classify import classify_smtp_error
from koban.core import outbound
from koban.logs.render import Rendered, email_parts, slack_message, webhook_document

SUPPORTED = ("slack", "webhook", "email")


class PostError(Exception):
    """The digest cannot be posted to this channel as configured (never retried)."""


def render(channel_type: str, r: Rendered, email_to: Sequence[str] = ()) -> dict[str, Any]:
    """The payload to post, for this channel type. Raises ``PostError``."""
    if channel_type == "slack":
        return slack_message(r.name, r.summary, r.language, r.link, r.new_days, r.weeks)
    if channel_type == "webhook":
        return webhook_document(r.digest_id, r.run_id, r.summary, r.link)
    if channel_type == "email":
        if not email_to:
            raise PostError("the digest has no email_to for its email channel")
        subject, text, html = email_parts(r)
        return {"subject": subject, "text": text, "html": html, "to": list(email_to)}
    raise PostError(f"channel type {channel_type!r} cannot take digests (use {', '.join(SUPPORTED)})")


async def send(
    channel_type: str, settings: Mapping[str, Any], payload: Mapping[str, Any], key: str
) -> DeliveryResult:
    """Post ``payload``; ``key`` (one per digest, window and channel) is the webhook's
    Idempotency-Key and the email's Message-ID, so a resend of the same post can be told apart."""
    if channel_type == "email":
        return await _email(settings, payload, key)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    body: Mapping[str, Any] = payload
    if channel_type == "slack" and settings.get("webhook_url"):
        url = str(settings["webhook_url"])
    elif channel_type == "slack":
        base = str(settings.get("base_url") or "https://slack.com/api/")
        url = base.rstrip("/") + "/chat.postMessage"
        headers["Authorization"] = f"Bearer {settings.get('token', '')}"
        body = {"channel": settings.get("channel"), **payload}
    elif channel_type == "webhook":
        url = str(settings["url"])
        headers["Idempotency-Key"] = f"koban-digest-{key}"
    else:
        return DeliveryResult.permanent(f"channel type {channel_type!r} cannot take digests")
    try:
        resp = await outbound.request("POST", url, headers=headers, body=json.dumps(body).encode())
    except outbound.OutboundError as exc:
        return DeliveryResult.in_doubt(str(exc)) if exc.sent else DeliveryResult.transient(str(exc))
    if resp.status == 429 or resp.status >= 500:
        return DeliveryResult.transient(f"HTTP {resp.status}: {resp.text[:200]}", resp.retry_after())
    if resp.status >= 300:
        return DeliveryResult.permanent(f"HTTP {resp.status}: {resp.text[:200]}")
    if channel_type == "slack" and not settings.get("webhook_url"):
        try:
            answer = json.loads(resp.body or b"{}")
        except ValueError:
            return DeliveryResult.in_doubt("slack answered with something that is not JSON")
        if not answer.get("ok"):
            error = f"slack: {answer.get('error')}"
            if answer.get("error") == "ratelimited":
                return DeliveryResult.transient(error, resp.retry_after())
            return DeliveryResult.permanent(error)
        return DeliveryResult.sent(str(answer.get("ts") or "") or None)
    return DeliveryResult.sent()


async def _email(settings: Mapping[str, Any], payload: Mapping[str, Any], key: str) -> DeliveryResult:
    if not settings.get("host") or not settings.get("from"):
        return DeliveryResult.permanent("email channel needs host and from configured")
    msg = EmailMessage()
    msg["Subject"], msg["From"] = str(payload["subject"]), str(settings["from"])
    msg["To"] = ", ".join(payload["to"])
    msg["Date"] = formatdate(localtime=False)
    # One id per (digest, window, channel): a receiving system folds a resend into the first one.
    domain = str(settings["from"]).rpartition("@")[2] or "koban.invalid"
    msg["Message-ID"] = f"<digest.{key.replace(':', '.')}@{domain}>"
    msg.set_content(str(payload["text"]))
    msg.add_alternative(str(payload["html"]), subtype="html")
    try:
        await asyncio.to_thread(deliver, settings, msg)
    except SmtpFailed as failed:
        return classify_smtp_error(failed.cause, failed.phase)
    return DeliveryResult.sent(msg["Message-ID"])
