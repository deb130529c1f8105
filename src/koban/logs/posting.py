"""Post a rendered digest to a configured channel: Slack (incoming webhook or bot token), a webhook,
or email (HTML and text, to the digest's ``email_to``, through the email channel's SMTP settings).

Digests are not incidents, so they do not go through the incident delivery rows; they are guarded
by their own run row instead (``digests.py``). Answers are classified as the channels do: 2xx sent,
429/5xx transient, the rest permanent.
"""

from __future__ import annotations

import asyncio
import json
import smtplib
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from koban.channels.email.channel import SmtpFailed, deliver
from koban.core import outbound
from koban.logs.render import Rendered, email_parts, slack_message, webhook_document

SUPPORTED = ("slack", "webhook", "email")


async def post(
    channel_type: str, settings: Mapping[str, Any], r: Rendered, email_to: Sequence[str] = ()
) -> str:
    """Returns "sent", or raises ``PostError``."""
    if channel_type == "email":
        return await _email(settings, r, email_to)
    slack = slack_message(r.name, r.summary, r.language, r.link, r.new_days, r.weeks)
    doc = webhook_document(r.digest_id, r.run_id, r.summary, r.link)
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


async def _email(settings: Mapping[str, Any], r: Rendered, to: Sequence[str]) -> str:
    if not to:
        raise PostError("the digest has no email_to for its email channel")
    if not settings.get("host") or not settings.get("from"):
        raise PostError("email channel needs host and from configured")
    subject, text, html = email_parts(r)
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, str(settings["from"]), ", ".join(to)
    msg["Date"] = formatdate(localtime=False)
    # One id per (digest, run): a receiving system can tell a resend from a new digest.
    domain = str(settings["from"]).rpartition("@")[2] or "koban.invalid"
    msg["Message-ID"] = make_msgid(f"digest.{r.digest_id}.{r.run_id}", domain=domain)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    try:
        await asyncio.to_thread(deliver, settings, msg)
    except SmtpFailed as exc:
        transient = not isinstance(exc.cause, smtplib.SMTPResponseException) or exc.cause.smtp_code < 500
        raise PostError(f"smtp ({exc.phase}): {exc}", transient=transient) from exc
    return "sent"


class PostError(Exception):
    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
