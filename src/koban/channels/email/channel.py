"""Email channel: stdlib smtplib run in a worker thread (no extra dependency).

Config keys (``Notification.config``): ``host`` (required), ``port`` (default 587 / 465 / 25 by
security), ``security`` (``starttls`` default, ``tls`` implicit, ``none``), ``username``, ``password``,
``from`` (required), ``timeout`` (seconds, default 15), ``ca_file`` (trust a private CA),
``subject_template``, ``text_template``, ``html_template``. The recipient address is the To.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any, ClassVar

from koban.channels.base import DeliveryResult, Notification
from koban.channels.email.classify import classify_smtp_error
from koban.channels.email.render import TemplateProblem, build_email

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


def _tls_context(config: Mapping[str, Any]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=config.get("ca_file"))


class SmtpFailed(Exception):
    def __init__(self, cause: smtplib.SMTPException | OSError, phase: str) -> None:
        super().__init__(str(cause))
        self.cause, self.phase = cause, phase


def deliver(config: Mapping[str, Any], message: EmailMessage) -> None:
    """Blocking SMTP dialogue; failures say whether the message may have been handed over. Also
    used for log digests (logs/posting.py), which are not incident notifications."""
    security = config.get("security", "starttls")
    host = str(config["host"])
    port = int(config.get("port") or DEFAULT_PORTS[security])
    timeout = float(config.get("timeout", 15))
    phase = "connect"
    try:
        if security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=_tls_context(config))
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            smtp.ehlo()
            if security == "starttls":
                smtp.starttls(context=_tls_context(config))
                smtp.ehlo()
            if config.get("username"):
                smtp.login(str(config["username"]), str(config.get("password", "")))
            phase = "send"
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise SmtpFailed(exc, phase) from exc


class EmailChannel:
    kind: ClassVar[str] = "email"

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock

    async def send(self, notification: Notification) -> DeliveryResult:
        config = notification.config
        sender = config.get("from")
        if not config.get("host") or not sender:
            return DeliveryResult.permanent("email channel needs host and from configured")
        if config.get("security", "starttls") not in DEFAULT_PORTS:
            return DeliveryResult.permanent("email security must be starttls, tls or none")
        if "@" not in notification.recipient.address:
            return DeliveryResult.permanent(f"not an email address: {notification.recipient.address!r}")
        domain = parseaddr(str(sender))[1].rpartition("@")[2] or "koban.invalid"
        try:
            message = build_email(notification, str(sender), domain, self._clock())
        except TemplateProblem as exc:
            return DeliveryResult.permanent(str(exc))
        try:
            await asyncio.to_thread(deliver, config, message)
        except SmtpFailed as failed:
            return classify_smtp_error(failed.cause, failed.phase)
        return DeliveryResult.sent(message["Message-ID"])

    async def reconcile(self, notification: Notification, provider_ref: str | None) -> DeliveryResult:
        # SMTP cannot be asked; resend with the same Message-ID (clients such as Gmail fold duplicates).
        return await self.send(notification)
