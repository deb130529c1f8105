"""``POST {prefix}/sms/inbound``: replies to SMS pages (the Twilio number's "A message comes in" URL).

Signed like every Twilio webhook (403 otherwise). Only numbers koban maps to a person may act;
the answer is Messaging TwiML confirming what happened, or why nothing did.

Replay safety: a reply acts once per ``MessageSid`` (Twilio resends a webhook whose answer it did not
get). A reply names the incident but not the step, so "2" (pass on) is taken against the step of the
latest SMS page sent to that person for that incident: that is the message they are answering, and
if the escalation has moved past it since, nothing is passed on twice. A person never paged by SMS
for the incident cannot pass it on by SMS (acknowledge and resolve do not depend on the step).
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.twiml.messaging_response import MessagingResponse

from koban.channels.actions import ActionResult, IncidentAction
from koban.channels.sms.replies import Reply, ReplyError, parse_reply
from koban.channels.voice.deps import TwilioDeps
from koban.channels.voice.webhook import problem, signed_form
from koban.core.i18n import M_, Said, tr

log = logging.getLogger(__name__)
INBOUND_PATH = "/sms/inbound"
SID_MEMORY = 7 * 86400.0  # Twilio resends within minutes; a week is ample


def reply(text: str) -> Response:
    mr = MessagingResponse()
    mr.message(text)
    return Response(str(mr), media_type="text/xml")


async def _act(deps: TwilioDeps, parsed: Reply, person: str) -> ActionResult:
    seen = await deps.last_sms_page(parsed.incident_id, person) if deps.last_sms_page else None
    if parsed.action is IncidentAction.ESCALATE and seen is None:
        reason = Said.of(M_("you were not paged by SMS for it, so it cannot be passed on by SMS"))
        return await deps.actions.refuse(
            parsed.incident_id, parsed.action, actor=person, via="sms", reason=reason
        )
    return await deps.actions.act(parsed.incident_id, parsed.action, actor=person, via="sms", seen=seen)


def build_sms_routes(deps: TwilioDeps) -> list[Route]:
    async def inbound(request: Request) -> Response:
        form = await signed_form(request, deps.settings)
        if isinstance(form, Response):
            return form
        sender, body = str(form.get("From", "")), str(form.get("Body", ""))
        if not sender:
            return problem(400, "From is required")
        person = await deps.person_for_phone(sender) if deps.person_for_phone else None
        if person is None:
            log.info("sms reply from an unknown number ignored")
            # Nobody known: no language to answer in but English.
            return reply(tr(None, "This number is not registered with koban."))
        lang = deps.language_of(person) if deps.language_of else None  # the answers are in theirs
        try:
            parsed = parse_reply(body, deps.settings.token_secrets)
        except ReplyError as exc:
            return reply(exc.text(lang))
        sid = str(form.get("MessageSid", ""))
        try:
            if sid and not await deps.tokens.consume(f"sms:{sid}", expires_at=deps.clock() + SID_MEMORY):
                refused = await deps.actions.refuse(
                    parsed.incident_id,
                    parsed.action,
                    actor=person,
                    via="sms",
                    reason=Said.of(M_("this message was already handled")),
                )
                return reply(f"#{parsed.incident_id}: {refused.text(lang)}")
            result = await _act(deps, parsed, person)
        except LookupError:
            return reply(tr(lang, "#{id}: no such incident.", id=str(parsed.incident_id)))
        data = {"body": body[:160], "from": sender, "action": str(parsed.action)}
        await deps.actions.note(parsed.incident_id, "sms.reply", actor=person, via="sms", data=data)
        return reply(f"#{parsed.incident_id}: {result.text(lang)}")

    return [Route(deps.settings.path_prefix + INBOUND_PATH, inbound, methods=["POST"])]
