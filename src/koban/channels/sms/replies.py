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
TEMPLATES = {
    "en-US": "[koban] {severity} {service}: {summary} ({since} ago). "
    "Reply 1 {code} to ack, 3 {code} to resolve.",
    "ja-JP": "[koban] {severity} {service}: {summary}（発生から{since}）。"
    "確認は「1 {code}」、解決は「3 {code}」と返信してください。",
}

LINK_LABEL = {"en-US": "Ack:", "ja-JP": "確認:"}
# A task opened by a calendar event (docs/calendars.md): Start and Done, the same actions underneath,
# with both signed links (Done is what a task is for; a page carries the acknowledge link only).
TASK_TEMPLATES = {
    "en-US": "[koban] TASK {service}: {summary}. Reply 1 {code} to start, 3 {code} when done.",
    "ja-JP": "[koban] 作業 {service}: {summary}。開始は「1 {code}」、完了は「3 {code}」と返信してください。",
}
TASK_LINK_LABELS = {
    "en-US": {"acknowledge": "Start:", "resolve": "Done:"},
    "ja-JP": {"acknowledge": "開始:", "resolve": "完了:"},
}
# Twilio refuses a body over 1,600 characters; a notice's summary of open incidents can be long.
MAX_NOTICE = 1600


class ReplyError(ValueError):
    """The reply cannot be acted on; the message is sent back to the person."""


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
        text = TASK_TEMPLATES[lang].format(service=v["service"], summary=summary, code=code)
        labels = TASK_LINK_LABELS[lang]
        links = [f"{labels[a]} {n.links[a]}" for a in labels if n.links.get(a)]
        return " ".join([text, *links])
    text = TEMPLATES[lang].format(
        severity=severity, service=v["service"], summary=summary, since=v["since"], code=code
    )
    # A signed one-click link for phones where replying is awkward (the reply codes still work).
    link = n.links.get("acknowledge")
    return f"{text} {LINK_LABEL[lang]} {link}" if link else text


def notice_text(n: Notification) -> str:
    """A schedule notice (a handoff, a gap, a swap: paging/schedule_notices.py) is no incident: its
    text, already in the reader's language, with no reply codes (there is nothing to acknowledge)."""
    text = f"[koban] {n.incident.summary}"
    return text if len(text) <= MAX_NOTICE else text[: MAX_NOTICE - 1] + "…"


def parse_reply(body: str, secrets: Sequence[str]) -> Reply:
    text = unicodedata.normalize("NFKC", body or "").lower()
    match = _REPLY.match(text)
    if match is None:
        raise ReplyError("Reply with 1 <code> to acknowledge or 3 <code> to resolve, e.g. 1 42K.")
    action = COMMANDS.get(match["cmd"])
    if action is None:
        raise ReplyError(f"Unknown command {match['cmd']!r}: use 1 (ack), 2 (pass on) or 3 (resolve).")
    incident_id = int(match["id"])
    check = match["check"].upper()
    if not any(hmac.compare_digest(_check(s, incident_id), check) for s in secrets):
        raise ReplyError(f"Code {incident_id}{check} is not valid: check the code in the alert.")
    return Reply(action, incident_id)
