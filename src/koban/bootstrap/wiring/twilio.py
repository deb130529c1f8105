"""Twilio voice and SMS wired into koban: channels, webhook deps and routes.

- ``make_channel(kind, config, ctx)``: the registry's factory for ``voice`` and ``sms``. Settings come
  from the channel config and ``KOBAN_TWILIO_*`` (``channels/voice/config.py``); every channel on one
  account shares one pacer; the channel is wrapped so numbers Twilio refused for good are recorded on
  the person's contact and skipped until the number changes.
- ``routes(system)``: ``/twilio/voice/{twiml,gather,status}`` and ``/twilio/sms/inbound``, built from
  deps that follow the configuration snapshot (listed in ``bootstrap/mounts.py``).
- Deps: single-use tokens in ``used_tokens`` (``DbNonceStore``), call states in ``call_states``
  (compare-and-set), ``resolve_delivery`` rebuilding the Notification from the delivery row,
  ``person_for_phone`` from the people's phone contacts, and ``last_sms_page``: the step an SMS reply
  answers (the latest SMS page sent to that person for that incident).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from koban.bootstrap.wiring.twilio_outcomes import TwilioActions
from koban.bootstrap.wiring.twilio_store import DbCallStateStore, known_bad, record_problem
from koban.channels.base import DeliveryResult, DeliveryStatus, Notification
from koban.channels.sms import SmsChannel, build_sms_routes
from koban.channels.voice import TwilioDeps, VoiceChannel, build_routes, close_client
from koban.channels.voice.config import settings_from_config
from koban.channels.voice.errors import CONTACT_CODES
from koban.channels.voice.pacing import Pacer
from koban.channels.voice.retry import DEFAULT_RULES, RetryRule
from koban.channels.voice.settings import TwilioSettings
from koban.db import schema as t
from koban.db.tokens import DbNonceStore
from koban.paging.incidents import SETTLED_SENT
from koban.paging.notifications import Unreachable, build_notification
from koban.paging.rows import ClaimedDelivery, IncidentRow
from koban.paging.stop import CALL_OPEN, HANGUP

if TYPE_CHECKING:
    from koban.bootstrap.wiring.deps import Wired

KINDS = ("voice", "sms")
SID_WAITS, SID_POLL_SECONDS = 40, 0.05  # a hangup waits up to 2 s for a call being placed to get its sid
PREFIX = "/twilio"  # where koban mounts the routes, whatever a channel's path_prefix says
PATHS = ("/voice/twiml", "/voice/gather", "/voice/status", "/sms/inbound")
Endpoint = Callable[[Request], Awaitable[Response]]


def channel_settings(ctx: Any, config: Mapping[str, Any]) -> TwilioSettings:
    s = settings_from_config(config, public_url=ctx.public_url, signing_key=ctx.signing_key, env=os.environ)
    return replace(s, path_prefix=PREFIX)


class PhoneChannel:
    """A voice or SMS channel plus the person's-contact bookkeeping (the inner channel stays pure)."""

    def __init__(self, inner: VoiceChannel | SmsChannel, ctx: Any) -> None:
        self.inner, self.ctx = inner, ctx
        self.kind = inner.kind

    async def send(self, n: Notification) -> DeliveryResult:
        if n.kind == HANGUP and isinstance(self.inner, VoiceChannel):
            return await self._hang_up(self.inner, n)
        person, address = n.recipient.person, n.recipient.address
        if person:
            bad = await known_bad(self.ctx.db, person, "phone", address)
            if bad is not None:
                return DeliveryResult.permanent(f"{address} was refused before ({bad['error']}); skipped")
        result = await self.inner.send(n)
        bad_contact = result.meta.get("bad_contact") or result.meta.get("twilio_code") in CONTACT_CODES
        if result.status is DeliveryStatus.PERMANENT and person and bad_contact:
            code = result.meta.get("twilio_code")
            await record_problem(
                self.ctx.db, person, "phone", address, code, result.error or "", self.ctx.clock.now()
            )
            data = {"contact": "phone", "address": address, "code": code, "error": result.error}
            await self.ctx.actions.note(
                n.incident.id, "contact.invalid", actor=person, via=n.channel, data=data
            )
        return result

    async def reconcile(self, n: Notification, provider_ref: str | None) -> DeliveryResult:
        if n.kind == HANGUP:
            return await self.send(n)  # canceling a call twice is harmless
        return await self.inner.reconcile(n, provider_ref)

    async def _hang_up(self, inner: VoiceChannel, n: Notification) -> DeliveryResult:
        """End the call of the page ``n`` names, once its sid is known (paging/stop.py)."""
        page = str(n.previous.get("page", ""))
        for _ in range(SID_WAITS):
            row = await self._page_call(page)
            if row is None or row.state not in CALL_OPEN:
                return DeliveryResult.sent(meta={"call_status": "already over"})
            sid = row.provider_ref or n.previous.get("call_sid")
            if not sid and inner.call_states is not None:
                state = await inner.call_states.load(page)  # a callback may name it before the sender
                sid = state.sid if state else None
            if sid:
                return await inner.hang_up(str(sid))
            # Being placed right now: its sid comes with the sender's record, in a moment. Waiting
            # here ends the call sooner than a retry's backoff would.
            await asyncio.sleep(SID_POLL_SECONDS)
        return DeliveryResult.transient("the call is being placed; its sid is not known yet")

    async def _page_call(self, page: str) -> Any:
        d = t.deliveries.c
        async with self.ctx.db.read() as conn:
            return (await conn.execute(sa.select(d.state, d.provider_ref).where(d.key == page))).first()

    async def aclose(self) -> None:
        close_client(self.inner.client)


def make_channel(kind: str, config: Mapping[str, Any], ctx: Any) -> PhoneChannel:
    if ctx is None:
        raise ValueError(f"{kind} channels need koban's database and clock: build them through the system")
    s = channel_settings(ctx, config)
    if kind == "sms":
        return PhoneChannel(SmsChannel(s, clock=ctx.clock.now), ctx)
    pacer = ctx.shared.setdefault(("twilio-pacer", s.account_sid), Pacer(s.calls_per_second))
    states = DbCallStateStore(ctx.db, ctx.clock)
    return PhoneChannel(VoiceChannel(s, call_states=states, clock=ctx.clock.now, pacer=pacer), ctx)


class TwilioWiring:
    """Deps for the webhooks, rebuilt when the configuration snapshot changes."""

    def __init__(self, wired: Wired) -> None:
        self.wired = wired
        self._catalog: object = None
        self._deps: TwilioDeps | None = None
        self._endpoints: dict[str, Endpoint] = {}

    def settings_by_channel(self) -> dict[str, TwilioSettings]:
        out = {}
        for ch in self.wired.catalog.channels.values():
            if ch.type in KINDS:
                try:
                    out[ch.id] = channel_settings(self.wired.context, ch.settings())
                except ValueError:
                    continue  # shown where it is used: the delivery fails with the reason
        return out

    def rules_for(self, channel_id: str) -> Mapping[str, RetryRule]:
        s = self.settings_by_channel().get(channel_id)
        return s.retry_rules if s else DEFAULT_RULES

    def deps(self) -> TwilioDeps | None:
        if self._catalog is self.wired.catalog:
            return self._deps
        every = list(self.settings_by_channel().values())
        self._catalog, self._deps = self.wired.catalog, None
        if every:
            # Webhooks accept any configured account's tokens (rotation puts two on one account).
            tokens = tuple(dict.fromkeys(tok for s in every for tok in s.auth_tokens))
            wired = self.wired
            self._deps = TwilioDeps(
                settings=replace(every[0], auth_tokens=tokens),
                actions=TwilioActions(wired, self.rules_for),
                tokens=DbNonceStore(wired.db, wired.clock),
                call_states=DbCallStateStore(wired.db, wired.clock),
                resolve_delivery=self.resolve_delivery,
                person_for_phone=self.person_for_phone,
                last_sms_page=self.last_sms_page,
                language_of=self.language_of,
                clock=wired.clock.now,
            )
            routes = [*build_routes(self._deps), *build_sms_routes(self._deps)]
            self._endpoints = {r.path: r.endpoint for r in routes}
        return self._deps

    async def resolve_delivery(self, key: str) -> Notification | None:
        wired = self.wired
        async with wired.db.read() as conn:
            row = (
                (await conn.execute(sa.select(t.deliveries).where(t.deliveries.c.key == key)))
                .mappings()
                .first()
            )
            if row is None:
                return None
            incident = (
                (await conn.execute(sa.select(t.incidents).where(t.incidents.c.id == row["incident_id"])))
                .mappings()
                .first()
            )
        if incident is None:
            return None
        # Whole rows: a superset of the claimed columns and of what a notification shows.
        delivery, shown = cast(ClaimedDelivery, dict(row)), cast(IncidentRow, dict(incident))
        try:
            return build_notification(delivery, shown, wired.catalog, wired.public_url)
        except Unreachable:
            return None

    async def last_sms_page(self, incident_id: int, person: str) -> tuple[int, int] | None:
        """(step, loop) of the latest SMS page sent to ``person`` for the incident: what a reply answers."""
        d = t.deliveries.c
        q = (
            sa.select(d.step, d.loop)
            .where(
                d.incident_id == incident_id,
                d.person_id == person,
                d.kind == "page",
                d.channel_type == "sms",
                d.state.in_(SETTLED_SENT),
            )
            .order_by(d.id.desc())
            .limit(1)
        )
        async with self.wired.db.read() as conn:
            row = (await conn.execute(q)).first()
        return (row.step, row.loop) if row else None

    def language_of(self, person: str) -> str | None:
        p = self.wired.catalog.people.get(person)
        return p.language if p is not None else None

    async def person_for_phone(self, number: str) -> str | None:
        for person in self.wired.catalog.people.values():
            if person.contacts.get("phone") == number:
                return person.id
        return None

    async def dispatch(self, request: Request) -> Response:
        if not request.headers.get("X-Twilio-Signature"):  # not Twilio, configured or not
            return JSONResponse({"detail": "missing X-Twilio-Signature"}, status_code=403)
        deps = self.deps()
        endpoint = self._endpoints.get(request.url.path) if deps is not None else None
        if endpoint is None:
            return JSONResponse({"detail": "no Twilio channel is configured"}, status_code=404)
        return await endpoint(request)


def routes(wired: Wired) -> list[BaseRoute]:
    wiring = TwilioWiring(wired)
    return [Route(PREFIX + path, wiring.dispatch, methods=["POST"]) for path in PATHS]
