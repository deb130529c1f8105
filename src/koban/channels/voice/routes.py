"""The voice webhooks Twilio calls, as Starlette routes (``build_routes``).

``POST {prefix}/voice/twiml?t=…``   the page: message + menu in a ``<Gather>``; repeats, then hangs up
                                    (an incident acknowledged or resolved meanwhile: says so, hangs up)
``POST {prefix}/voice/gather?t=…``  a key: 1 acknowledge, 2 pass on, 3 resolve, * repeat (confirmed aloud)
``POST {prefix}/voice/status?t=…``  call progress: reduced into the call state, settles the delivery

Every request must carry a valid ``X-Twilio-Signature`` (403 otherwise) and a valid token for that
path (403: forged, expired, replayed, wrong purpose). TwiML and gather tokens are single-use; each
answer mints the next ones. Malformed input is a 4xx, never a 5xx.

A key names the step and loop its call was placed for, so pressing 2 on a call the escalation has
already moved past passes nothing on (the caller hears why). A replayed gather request (the same
signed URL, CallSid and Digits) is refused before anything acts, and the refusal is on the timeline.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from koban.channels.actions import IncidentAction
from koban.channels.base import Notification
from koban.channels.voice import twiml
from koban.channels.voice.deps import TwilioDeps
from koban.channels.voice.script import is_task, key_phrase, normalize_language, phrase, render_message
from koban.channels.voice.settings import TwilioSettings
from koban.channels.voice.settle import apply_event
from koban.channels.voice.state import KeyEvent, StatusEvent, is_machine
from koban.channels.voice.tokens import Claims, TokenError, sign, verify
from koban.channels.voice.webhook import problem, signed_form
from koban.core.i18n import M_, Said

log = logging.getLogger(__name__)

TWIML_PATH, GATHER_PATH, STATUS_PATH = "/voice/twiml", "/voice/gather", "/voice/status"
OVER = ("acknowledged", "resolved")  # an incident in these no longer asks anyone for a key
KEY_ACTIONS = {"1": IncidentAction.ACKNOWLEDGE, "2": IncidentAction.ESCALATE, "3": IncidentAction.RESOLVE}


def token_url(settings: TwilioSettings, path: str, claims: Claims) -> str:
    return f"{settings.base}{path}?t={sign(settings.token_secrets, claims)}"


def xml(body: str) -> Response:
    return Response(body, media_type="text/xml")


async def _claims(request: Request, deps: TwilioDeps, purpose: str, *, consume: bool) -> Claims | Response:
    try:
        claims = verify(
            deps.settings.token_secrets, request.query_params.get("t", ""), purpose=purpose, now=deps.clock()
        )
    except TokenError as exc:
        return problem(403, str(exc))
    if consume and not await deps.tokens.consume(claims.token_id, expires_at=claims.expires_at):
        return problem(403, "token already used")
    return claims


async def _checked(
    request: Request, deps: TwilioDeps, purpose: str, *, consume: bool
) -> tuple[FormData, Claims, Notification | None] | Response:
    form = await signed_form(request, deps.settings)
    if isinstance(form, Response):
        return form
    claims = await _claims(request, deps, purpose, consume=consume)
    if isinstance(claims, Response):
        return claims
    return form, claims, await deps.resolve_delivery(claims.key)


def _next(deps: TwilioDeps, claims: Claims, purpose: str, plays: int, ttl: int) -> Claims:
    expires = int(deps.clock()) + ttl
    return Claims(claims.key, purpose, expires, deps.new_id(), plays)


def _page(deps: TwilioDeps, n: Notification, claims: Claims) -> str:
    s = deps.settings
    speech, template_problem = render_message(n, datetime.fromtimestamp(deps.clock(), UTC), s.voices)
    if template_problem:
        log.warning("delivery %s: %s", n.key, template_problem)
    ttl = s.gather_timeout + 600  # the menu plays, then the person has gather_timeout to press
    gather_url = token_url(s, GATHER_PATH, _next(deps, claims, "gather", claims.plays, ttl))
    repeat_url = None
    if claims.plays + 1 < s.max_plays:
        repeat_url = token_url(s, TWIML_PATH, _next(deps, claims, "twiml", claims.plays + 1, ttl))
    return twiml.page_document(
        speech, gather_url=gather_url, repeat_url=repeat_url, gather_timeout=s.gather_timeout
    )


async def _replayed_key(deps: TwilioDeps, n: Notification | None, digit: str) -> Response:
    """A gather token already used: nothing acts again. A key that would have acted is recorded as
    refused (timeline and audit trail, door: keypad) and the answer says where the incident stands."""
    action = KEY_ACTIONS.get(digit)
    if n is None or action is None:
        return problem(403, "token already used")
    reason = Said.of(M_("this key press was already handled"))
    refused = await deps.actions.refuse(
        n.incident.id, action, actor=n.recipient.person, via="voice", reason=reason
    )
    # Spoken, not a 403: Twilio resends a gather whose answer timed out, and a 403 would make the
    # person on the line hear "an application error has occurred" instead of why nothing happened.
    lang = normalize_language(n.recipient.language)
    return xml(twiml.say_and_hangup(f"{phrase(lang, 'failed')} {refused.text(lang)}", lang))


def build_routes(deps: TwilioDeps) -> list[Route]:
    prefix = deps.settings.path_prefix

    async def page(request: Request) -> Response:
        checked = await _checked(request, deps, "twiml", consume=True)
        if isinstance(checked, Response):
            return checked
        form, claims, n = checked
        if n is None:
            return xml(twiml.say_and_hangup(phrase("en-US", "unavailable"), "en-US"))
        if is_machine(str(form.get("AnsweredBy", "")) or None):
            # A machine counts as not reached: leave no message; the completed callback settles it.
            return xml(twiml.hangup())
        if n.incident.status in OVER:
            # Acknowledged or resolved while this call rang: say so, ask for no key.
            lang = normalize_language(n.recipient.language)
            return xml(twiml.say_and_hangup(phrase(lang, f"over_{n.incident.status}"), lang))
        return xml(_page(deps, n, claims))

    async def gather(request: Request) -> Response:
        checked = await _checked(request, deps, "gather", consume=False)
        if isinstance(checked, Response):
            return checked
        form, claims, n = checked
        digit = str(form.get("Digits", "")).strip()[:1]
        if not await deps.tokens.consume(claims.token_id, expires_at=claims.expires_at):
            return await _replayed_key(deps, n, digit)
        if n is None:
            return xml(twiml.say_and_hangup(phrase("en-US", "unavailable"), "en-US"))
        lang = normalize_language(n.recipient.language)
        call_sid = str(form.get("CallSid", ""))
        actor = n.recipient.person
        data = {"digit": digit, "call_sid": call_sid, "delivery": n.key}
        await deps.actions.note(n.incident.id, "key.pressed", actor=actor, via="voice", data=data)
        action = KEY_ACTIONS.get(digit)
        if action is None:
            again = token_url(deps.settings, TWIML_PATH, _next(deps, claims, "twiml", claims.plays, 900))
            said = phrase(lang, "repeat" if digit == "*" else "invalid")
            return xml(twiml.say_and_redirect(said, lang, again))
        seen = (n.step, n.loop)  # the step this call was placed for
        result = await deps.actions.act(n.incident.id, action, actor=actor, via="voice", seen=seen)
        await apply_event(deps, n, KeyEvent(call_sid, digit))
        words = "task_" if is_task(n.incident) else ""  # a calendar task: "Started", "Marked as done"
        said = (
            key_phrase(lang, action.value, words)
            if result.ok
            else f"{phrase(lang, 'failed')} {result.text(lang)}"
        )
        return xml(twiml.say_and_hangup(said, lang))

    async def status(request: Request) -> Response:
        checked = await _checked(request, deps, "status", consume=False)
        if isinstance(checked, Response):
            return checked
        form, _, n = checked
        try:
            event = StatusEvent(
                call_sid=str(form["CallSid"]),
                status=str(form["CallStatus"]),
                sequence=int(str(form["SequenceNumber"])),
                answered_by=str(form.get("AnsweredBy", "")) or None,
                duration=int(str(form["CallDuration"])) if form.get("CallDuration") else None,
                at=deps.clock(),
            )
        except (KeyError, ValueError):
            return problem(400, "CallSid, CallStatus and a numeric SequenceNumber are required")
        if n is not None:
            await apply_event(deps, n, event)
        return Response(status_code=204)

    return [
        Route(prefix + TWIML_PATH, page, methods=["POST"]),
        Route(prefix + GATHER_PATH, gather, methods=["POST"]),
        Route(prefix + STATUS_PATH, status, methods=["POST"]),
    ]
