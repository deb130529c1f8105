"""SMS pages through Twilio Messages: a short summary with reply codes.

SMS is delivered-when-sent (no outcome callback decides anything). ``reconcile`` answers SENT when the
message sid is known, else NOT_SENT: a duplicate text after a crash is harmless, a missing page is not.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from koban.channels.base import DeliveryResult, DeliveryStatus, Notification
from koban.channels.sms.replies import notice_text, page_text
from koban.channels.voice.channel import E164
from koban.channels.voice.client import make_client
from koban.channels.voice.errors import classify_rest_error, classify_transport_error
from koban.channels.voice.settings import TwilioSettings


class SmsChannel:
    kind: ClassVar[str] = "sms"

    def __init__(
        self,
        settings: TwilioSettings,
        *,
        client: Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        self._clock = clock

    async def send(self, notification: Notification) -> DeliveryResult:
        to = notification.recipient.address
        if not E164.match(to):
            return DeliveryResult(
                DeliveryStatus.PERMANENT,
                error=f"not an E.164 phone number: {to!r}",
                meta={"bad_contact": True},
            )
        now = datetime.fromtimestamp(self._clock(), UTC)
        if notification.kind == "notice":
            body = notice_text(notification)
        else:
            body = page_text(notification, self.settings.token_secrets, now)
        try:
            msg = await asyncio.to_thread(
                self.client.messages.create, to=to, from_=self.settings.from_number, body=body
            )
        except TwilioRestException as exc:
            return classify_rest_error(exc)
        except requests.RequestException as exc:
            return classify_transport_error(exc)
        return DeliveryResult.sent(msg.sid, meta={"message_sid": msg.sid})

    async def reconcile(self, notification: Notification, provider_ref: str | None) -> DeliveryResult:
        if provider_ref:
            return DeliveryResult.sent(provider_ref)
        return DeliveryResult(DeliveryStatus.NOT_SENT)
