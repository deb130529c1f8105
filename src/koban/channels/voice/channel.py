"""The voice channel: places one call per delivery and leaves the outcome to the status callbacks.

Exactly once. A call is placed at most once per delivery key, even if the process dies between
sending the create request and recording its answer:

1. ``send`` puts the delivery key (inside a signed token) in both the TwiML ``Url`` and the
   ``StatusCallback`` query string, so every request Twilio makes about the call names its delivery.
   The status handler stores the ``CallSid`` in the call state of that key on the first callback.
2. ``reconcile(notification, provider_ref)`` settles a delivery left ``sending`` or IN_DOUBT:
   - sid known (``provider_ref``, or the call state stored by a callback) → fetch it → SENT (a 404
     means Twilio never had it → NOT_SENT);
   - sid unknown (the process died before any callback could name the key: they went to a dead
     server) → list calls to the same number from our caller id started within ``reconcile_window``
     (and calls still queued, which have no start time). None → NOT_SENT: definitely not placed,
     safe to send again. Exactly one → adopted as ours: SENT with that sid, and its outcome (from a
     callback or, failing that, the API) drives the escalation. Several → IN_DOUBT: ask again later;
     the step's timeout moves the escalation on meanwhile. The REST resource does not echo our Url,
     so a listed call is never proven someone else's: when unsure we would rather not call again.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from koban.channels.base import DeliveryResult, DeliveryStatus, Notification
from koban.channels.voice.client import make_client
from koban.channels.voice.deps import new_token_id
from koban.channels.voice.errors import classify_rest_error, classify_transport_error
from koban.channels.voice.pacing import Pacer
from koban.channels.voice.routes import STATUS_PATH, TWIML_PATH, token_url
from koban.channels.voice.settings import TwilioSettings
from koban.channels.voice.state import CallStateStore
from koban.channels.voice.tokens import Claims

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAX_PACING_WAIT = 5.0  # wait in-line for a CPS slot up to this long; beyond, answer TRANSIENT
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]


def call_request(
    settings: TwilioSettings, n: Notification, now: float, ids: tuple[str, str]
) -> dict[str, Any]:
    """Pure: the ``client.calls.create`` keyword arguments for one delivery at ``now``."""
    twiml = Claims(n.key, "twiml", int(now) + settings.twiml_token_ttl, ids[0])
    status = Claims(n.key, "status", int(now) + settings.status_token_ttl, ids[1])
    params: dict[str, Any] = {
        "to": n.recipient.address,
        "from_": settings.from_number,
        "url": token_url(settings, TWIML_PATH, twiml),
        "method": "POST",
        "status_callback": token_url(settings, STATUS_PATH, status),
        "status_callback_event": STATUS_EVENTS,
        "status_callback_method": "POST",
        "timeout": settings.ring_timeout,
    }
    if settings.machine_detection:
        params["machine_detection"] = "Enable"
    return params


class VoiceChannel:
    kind: ClassVar[str] = "voice"

    def __init__(
        self,
        settings: TwilioSettings,
        *,
        client: Client | None = None,
        call_states: CallStateStore | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        new_id: Callable[[], str] = new_token_id,
        pacer: Pacer | None = None,
    ) -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        self.call_states = call_states
        self._clock, self._sleep, self._new_id = clock, sleep, new_id
        # Pacing is per account: koban hands every channel on one account the same Pacer.
        self.pacer = pacer or Pacer(settings.calls_per_second)

    async def send(self, notification: Notification) -> DeliveryResult:
        to = notification.recipient.address
        if not E164.match(to):
            return DeliveryResult(
                DeliveryStatus.PERMANENT,
                error=f"not an E.164 phone number: {to!r}",
                meta={"bad_contact": True},
            )
        wait = self.pacer.reserve(self._clock())
        if wait > MAX_PACING_WAIT:
            self.pacer.release()
            return DeliveryResult.transient("paced: calls-per-second limit", retry_after=wait)
        if wait > 0:
            await self._sleep(wait)
        params = call_request(self.settings, notification, self._clock(), (self._new_id(), self._new_id()))
        try:
            call = await asyncio.to_thread(self.client.calls.create, **params)
        except TwilioRestException as exc:
            return classify_rest_error(exc)
        except requests.RequestException as exc:
            return classify_transport_error(exc)
        return DeliveryResult.sent(call.sid, awaits_outcome=True, meta={"call_sid": call.sid, "to": to})

    async def reconcile(self, notification: Notification, provider_ref: str | None) -> DeliveryResult:
        sid = provider_ref
        if sid is None and self.call_states is not None:
            state = await self.call_states.load(notification.key)
            sid = state.sid if state else None
        try:
            if sid:
                return await self._by_sid(sid)
            return await self._by_listing(notification)
        except TwilioRestException as exc:
            return DeliveryResult.in_doubt(f"cannot check with Twilio: {classify_rest_error(exc).error}")
        except requests.RequestException as exc:
            return DeliveryResult.in_doubt(f"cannot check with Twilio: {type(exc).__name__}")

    async def _by_sid(self, sid: str) -> DeliveryResult:
        try:
            call = await asyncio.to_thread(self.client.calls(sid).fetch)
        except TwilioRestException as exc:
            if exc.status == 404:
                return DeliveryResult(
                    DeliveryResult.sent().status.NOT_SENT, error=f"Twilio has no call {sid}"
                )
            raise
        return DeliveryResult.sent(call.sid, awaits_outcome=True, meta={"call_sid": call.sid})

    async def _by_listing(self, n: Notification) -> DeliveryResult:
        since = datetime.fromtimestamp(self._clock() - self.settings.reconcile_window, UTC)
        common = {"to": n.recipient.address, "from_": self.settings.from_number, "limit": 20}
        started = await asyncio.to_thread(self.client.calls.list, start_time_after=since, **common)
        queued = await asyncio.to_thread(self.client.calls.list, status="queued", **common)
        sids = sorted({c.sid for c in [*started, *queued]})
        if not sids:
            return DeliveryResult(DeliveryStatus.NOT_SENT)
        if len(sids) == 1:
            return DeliveryResult.sent(
                sids[0], awaits_outcome=True, meta={"call_sid": sids[0], "adopted": True}
            )
        return DeliveryResult.in_doubt(f"recent call(s) {', '.join(sids)} to this number not yet matched")

    async def hang_up(self, sid: str) -> DeliveryResult:
        """End a call that is no longer needed (its incident was acknowledged or resolved).

        ``Status=canceled``: Twilio ends a queued or ringing call, and leaves one already answered
        alone, so the person who answered (maybe the one whose key acknowledged it) is not cut off
        mid-sentence; their next TwiML says the incident is over (``routes.page``).
        """
        try:
            call = await asyncio.to_thread(self.client.calls(sid).update, status="canceled")
        except TwilioRestException as exc:
            if exc.status == 404:
                return DeliveryResult.sent(sid, meta={"call_status": "unknown"})
            return classify_rest_error(exc)
        except requests.RequestException as exc:
            return classify_transport_error(exc)
        return DeliveryResult.sent(sid, meta={"call_status": call.status})
