"""``POST {prefix}/sms/inbound``: replies to SMS pages (the Twilio number's "A message comes in" URL).

Signed like every Twilio webhook (403 otherwise). Only numbers koban maps to a person may act;
the answer is Messaging TwiML confirming what happened, or why nothing did.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.twiml.messaging_response import MessagingResponse

from koban.channels.sms.replies import ReplyError, parse_reply
from koban.channels.voice.deps import TwilioDeps
from koban.channels.voice.webhook import problem, signed_form

log = logging.getLogger(__name__)
INBOUND_PATH = "/sms/inbound"


def reply(text: str) -> Response:
    mr = MessagingResponse()
    mr.message(text)
    return Response(str(mr), media_type="text/xml")


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
            return reply("This number is not registered with koban.")
        try:
            parsed = parse_reply(body, deps.settings.token_secrets)
        except ReplyError as exc:
            return reply(str(exc))
        result = await deps.actions.act(parsed.incident_id, parsed.action, actor=person, via="sms")
        data = {"body": body[:160], "from": sender, "action": str(parsed.action)}
        await deps.actions.note(parsed.incident_id, "sms.reply", actor=person, via="sms", data=data)
        return reply(f"#{parsed.incident_id}: {result.message}")

    return [Route(deps.settings.path_prefix + INBOUND_PATH, inbound, methods=["POST"])]
