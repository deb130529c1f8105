"""Pure rendering of a notification into an email (text and HTML parts), via Jinja2's sandbox.

User templates (``subject_template``, ``text_template``, ``html_template``) see ``incident``, ``kind``,
``recipient``, ``links``, ``labels`` (each link's name: Start and Done for a task), ``step``,
``loop`` and ``_`` (a word of the outbound catalogue in the recipient's language: the default bodies
use it). The HTML environment autoescapes, so alert text from monitors cannot inject markup.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate
from importlib import resources
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from koban.channels.base import Notification

# The one documented incident shape, shared with the webhook body.
from koban.channels.webhook.payload import incident_dict
from koban.core.i18n import M_, tr

_TEXT = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)
_HTML = ImmutableSandboxedEnvironment(autoescape=True)

# The default subjects: Jinja2 templates whose Japanese forms are their translations in the outbound
# catalogue (core/i18n.py). The default bodies are package files whose words go through ``_``.
DEFAULT_SUBJECT = M_(
    "{% if incident.status == 'resolved' %}[RESOLVED]{% elif incident.status == 'acknowledged' %}[ACK]"
    "{% else %}[{{ incident.severity|upper }}]{% endif %} {{ incident.summary }} (incident {{ incident.id }})"
)
# A task opened by a calendar event (docs/calendars.md) has its own words: Start and Done for the
# acknowledge and resolve links underneath, and a subject that says it is a task.
TASK_SUBJECT = M_(
    "{% if incident.status == 'resolved' %}[DONE]{% elif incident.status == 'acknowledged' %}[STARTED]"
    "{% else %}[TASK]{% endif %} {{ incident.summary }} (task {{ incident.id }})"
)
LABELS = {"acknowledge": M_("Acknowledge"), "resolve": M_("Resolve"), "escalate": M_("Escalate")}
TASK_LABELS = {"acknowledge": M_("Start"), "resolve": M_("Done"), "escalate": M_("Escalate")}
# A schedule notice (paging/schedule_notices.py: a handoff, a coverage gap, a swap) is no incident:
# its summary is the whole message, written in the reader's language (schedules/wording.py), its
# first line the headline.
NOTICE_SUBJECT = "[koban] {{ incident.summary.splitlines()[0] if incident.summary else '' }}"
NOTICE_TEXT = "{{ incident.summary }}\n\n-- koban\n"
NOTICE_HTML = (
    '<html><body><p style="white-space: pre-line">{{ incident.summary }}</p><p>-- koban</p></body></html>'
)
# Long bodies live in package files; user templates come from config.
DEFAULT_TEXT = (resources.files(__package__) / "templates" / "default.txt.j2").read_text("utf-8")
DEFAULT_HTML = (resources.files(__package__) / "templates" / "default.html.j2").read_text("utf-8")


class TemplateProblem(ValueError):
    """A user template failed; the delivery fails permanently with this message."""


def is_task(n: Notification) -> bool:
    return n.incident.details.get("kind") == "task"


def _context(n: Notification) -> dict[str, Any]:
    lang = n.recipient.language

    def _(message: str, **values: Any) -> str:
        """A word of the default bodies in the recipient's language (user templates may use it too)."""
        return tr(lang, message, **values)

    labels = TASK_LABELS if is_task(n) else LABELS
    return {
        "_": _,
        "incident": incident_dict(n.incident),
        "labels": {action: tr(lang, label) for action, label in labels.items()},  # Start/Done for a task
        "kind": n.kind,
        "recipient": {"person": n.recipient.person, "name": n.recipient.name, "address": n.recipient.address},
        "links": dict(n.links),
        "step": n.step,
        "loop": n.loop,
    }


def _render(env: ImmutableSandboxedEnvironment, source: str, context: dict[str, Any], what: str) -> str:
    try:
        return env.from_string(source).render(**context)
    except TemplateError as exc:
        raise TemplateProblem(f"email {what} template failed: {exc}") from exc


def _msgid_part(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9.\-_+]", "-", value)


def build_email(n: Notification, sender: str, domain: str, now: float) -> EmailMessage:
    """Raises TemplateProblem. Message-ID derives from the delivery key so a resend is recognisable;
    every mail about one incident references the same thread id so mail clients group them."""
    ctx = _context(n)
    config = n.config
    notice = n.kind == "notice"
    default_subject = tr(n.recipient.language, TASK_SUBJECT if is_task(n) else DEFAULT_SUBJECT)
    subject_t = NOTICE_SUBJECT if notice else config.get("subject_template") or default_subject
    subject = _render(_TEXT, subject_t, ctx, "subject")
    text = _render(_TEXT, NOTICE_TEXT if notice else config.get("text_template") or DEFAULT_TEXT, ctx, "text")
    html = _render(_HTML, NOTICE_HTML if notice else config.get("html_template") or DEFAULT_HTML, ctx, "html")
    msg = EmailMessage()
    msg["Subject"] = " ".join(subject.split())  # no header injection through newlines
    msg["From"] = sender
    msg["To"] = n.recipient.address
    msg["Date"] = formatdate(now, usegmt=True)
    msg["Message-ID"] = f"<{_msgid_part(n.key)}@{domain}>"
    thread = f"<koban-incident-{n.incident.id}@{domain}>"
    msg["References"] = thread
    msg["In-Reply-To"] = thread
    msg["X-Koban-Delivery"] = n.key
    msg["X-Koban-Incident"] = str(n.incident.id)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders stay quiet
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg
