"""SMS page text and the parser for replies like ``1 42K`` (pure).

The incident code is the incident id plus one check letter (HMAC of the id with the token secret), so
a mistyped id is refused instead of acknowledging somebody else's incident. Replies are normalised
with NFKC first: Japanese phones often send full-width digits (``１ ４２Ｋ``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from koban.channels.actions import IncidentAction
from koban.channels.base import Notification
from koban.channels.voice.script import incident_vars, normalize_language
from koban.core.i18n import M_, tr

CHECK_LETTERS = "ACEFHJKLMNPRTWXY"  # no look-alikes of digits (O/0, I/1, S/5, B/8, Z/2, G/6)
MAX_SUMMARY = 100
_REPLY = re.compile(r"^\s*(?P<cmd>[a-z0-9]+)\s*#?(?P<id>\d{1,12})(?P<check>[a-z])\s*$")
COMMANDS = {
    "1": IncidentAction.ACKNOWLEDGE,
    "ack": IncidentAction.ACKNOWLEDGE,
    "2": IncidentAction.ESCALATE,
    "3": IncidentAction.RESOLVE,
    "resolve": IncidentAction.RESOLVE,
}
# The page's text: its Japanese form is its translation in the outbound catalogue (core/i18n.py).
TEMPLATE = M_(
    "[koban] {severity} {service}: {summary} ({since} ago). Reply 1 {code} to ack, 3 {code} to resolve."
)
LINK_LABEL = M_("Ack:")
# A task opened by a calendar event (docs/calendars.md): Start and Done, the same actions underneath,
# with both signed links (Done is what a task is for; a page carries the acknowledge link only).
TASK_TEMPLATE = M_("[koban] TASK {service}: {summary}. Reply 1 {code} to start, 3 {code} when done.")
TASK_LINK_LABELS = {"acknowledge": M_("Start:"), "resolve": M_("Done:")}
# Twilio refuses a body over 1,600 characters; a notice's summary of open incidents can be long.
MAX_NOTICE = 1600


class ReplyError(ValueError):
    """The reply cannot be acted on; the message is sent back to the person (``str``: in English,
    ``text(lang)``: in theirs)."""

    def __init__(self, message: str, **values: str) -> None:
        self.message, self.values = message, values
        super().__init__(message.format(**values))

    def text(self, lang: str | None) -> str:
        return tr(lang, self.message, **self.values)


@dataclass(frozen=True, slots=True)
class Reply:
    action: IncidentAction
    incident_id: int


def _check(secret: str, incident_id: int) -> str:
    digest = hmac.new(secret.encode(), f"sms:{incident_id}".encode(), hashlib.sha256).digest()
    return CHECK_LETTERS[digest[0] % len(CHECK_LETTERS)]


def incident_code(incident_id: int, secrets: Sequence[str]) -> str:
    return f"{incident_id}{_check(secrets[0], incident_id)}"


def page_text(n: Notification, secrets: Sequence[str], now: datetime) -> str:
    lang = normalize_language(n.recipient.language)
    v = incident_vars(n.incident, lang, now)
    summary = v["summary"] if len(v["summary"]) <= MAX_SUMMARY else v["summary"][: MAX_SUMMARY - 1] + "…"
    severity = v["severity"].upper() if lang == "en-US" else v["severity"]
    code = incident_code(n.incident.id, secrets)
    if n.incident.details.get("kind") == "task":
        text = tr(lang, TASK_TEMPLATE, service=v["service"], summary=summary, code=code)
        labels = TASK_LINK_LABELS
        links = [f"{tr(lang, labels[a])} {n.links[a]}" for a in labels if n.links.get(a)]
        return " ".join([text, *links])
    fields = {"severity": severity, "service": v["service"], "summary": summary, "since": v["since"]}
    text = tr(lang, TEMPLATE, code=code, **fields)
    # A signed one-click link for phones where replying is awkward (the reply codes still work).
    link = n.links.get("acknowledge")
    return f"{text} {tr(lang, LINK_LABEL)} {link}" if link else text


def notice_text(n: Notification) -> str:
    """A schedule notice (a handoff, a gap, a swap: paging/schedule_notices.py) is no incident: its
    text, already in the reader's language, with no reply codes (there is nothing to acknowledge)."""
    text = f"[koban] {n.incident.summary}"
    return text if len(text) <= MAX_NOTICE else text[: MAX_NOTICE - 1] + "…"


def parse_reply(body: str, secrets: Sequence[str]) -> Reply:
    text = unicodedata.normalize("NFKC", body or "").lower()
    match = _REPLY.match(text)
    if match is None:
        raise ReplyError(M_("Reply with 1 <code> to acknowledge or 3 <code> to resolve, e.g. 1 42K."))
    action = COMMANDS.get(match["cmd"])
    if action is None:
        unknown = M_("Unknown command {command}: use 1 (ack), 2 (pass on) or 3 (resolve).")
        raise ReplyError(unknown, command=repr(match["cmd"]))
    incident_id = int(match["id"])
    check = match["check"].upper()
    if not any(hmac.compare_digest(_check(s, incident_id), check) for s in secrets):
        invalid = M_("Code {code} is not valid: check the code in the alert.")
        raise ReplyError(invalid, code=f"{incident_id}{check}")
    return Reply(action, incident_id)
