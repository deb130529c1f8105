"""What the call says: the incident message (a user-editable Jinja2 sandbox template) and the fixed
phrases, in the person's language, with a voice that speaks it.

Supported languages: ``en-US`` (Polly.Joanna) and ``ja-JP`` (Polly.Mizuki); anything else falls back to
``en-US``. A template that fails to render never blocks a page: the default template is used and the
problem is returned so koban can show it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from koban.channels.base import IncidentView, Notification
from koban.core.i18n import M_, joiner, tr, trn

DEFAULT_LANGUAGE = "en-US"
VOICES: Mapping[str, str] = {"en-US": "Polly.Joanna", "ja-JP": "Polly.Mizuki"}
MAX_MESSAGE_CHARS = 1000  # <Say> takes 4096; a page longer than this is not heard to the end anyway

# The fixed phrases by name, their English text the catalogue's id (core/i18n.py: ``outbound``).
# They are spoken by Polly: plain sentences, no markup, no symbols a voice would read out.
PHRASES: Mapping[str, str] = {
    "menu": M_("Press 1 to acknowledge, 2 to pass to the next person, 3 to resolve, or star to repeat."),
    "acknowledge": M_("Acknowledged. Thank you."),
    "escalate": M_("Passing this to the next person now."),
    "resolve": M_("Marked as resolved."),
    "repeat": M_("Repeating the message."),
    "invalid": M_("Sorry, that key is not valid."),
    "failed": M_("Sorry, that could not be done."),
    "goodbye": M_("No key was pressed. Goodbye."),
    "unavailable": M_("This alert is no longer available. Goodbye."),
    "over_acknowledged": M_("This incident has been acknowledged. No action is needed. Goodbye."),
    "over_resolved": M_("This incident has been resolved. No action is needed. Goodbye."),
    # A calendar task (docs/calendars.md): the same keys, in the task's words.
    "task_menu": M_(
        "Press 1 to start the task, 2 to pass it to the next person, 3 when it is done, or star to repeat."
    ),
    "task_acknowledge": M_("Started. Thank you."),
    "task_escalate": M_("Passing this task to the next person now."),
    "task_resolve": M_("Marked as done."),
}

# The severity as read out.
SEVERITY_WORDS: Mapping[str, str] = {
    "critical": M_("critical"),
    "error": M_("error"),
    "warning": M_("warning"),
    "info": M_("info"),
}

# The default spoken messages: Jinja2 templates whose Japanese forms are their translations.
DEFAULT_TEMPLATE = M_(
    "Alert from koban. {{ severity }} incident on {{ service }}"
    "{% if source %}, host {{ source }}{% endif %}: {{ summary }}. Started {{ since }} ago."
)
TASK_TEMPLATE = M_("A task from koban on {{ service }}: {{ summary }}. Nobody has started it yet.")

_ENV = ImmutableSandboxedEnvironment(autoescape=False)


@dataclass(frozen=True, slots=True)
class Speech:
    text: str
    language: str
    voice: str
    words: str = ""  # the phrases' prefix: "task_" for a calendar task's menu and answers


def is_task(incident: IncidentView) -> bool:
    return incident.details.get("kind") == "task"


def key_phrase(language: str, name: str, words: str = "") -> str:
    """A fixed phrase, in a task's words when ``words`` says so and it has its own."""
    return tr(normalize_language(language), PHRASES.get(words + name) or PHRASES[name])


def normalize_language(value: str | None) -> str:
    """``ja``, ``ja_jp``, ``JA-JP`` → ``ja-JP``; unsupported → en-US (Twilio rejects unknown pairs)."""
    tag = (value or "").replace("_", "-").strip().lower()
    for supported in VOICES:
        if tag in (supported.lower(), supported.split("-")[0].lower()):
            return supported
    return DEFAULT_LANGUAGE


def phrase(language: str, name: str) -> str:
    return tr(normalize_language(language), PHRASES[name])


def humanize_duration(seconds: float, language: str) -> str:
    minutes = max(0, int(seconds // 60))
    hours, mins = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if minutes == 0:
        return tr(language, "less than a minute")
    parts = (
        trn(language, "{n} day", "{n} days", days) if days else "",
        trn(language, "{n} hour", "{n} hours", hours) if hours else "",
        trn(language, "{n} minute", "{n} minutes", mins) if mins else "",
    )
    return joiner(language).join(p for p in parts if p)


def incident_vars(incident: IncidentView, language: str, now: datetime) -> dict[str, Any]:
    """The variables a voice or SMS template sees."""
    lang = normalize_language(language)
    word = SEVERITY_WORDS.get(incident.severity)
    severity = tr(lang, word) if word else incident.severity
    since = humanize_duration((now - incident.created_at).total_seconds(), lang)
    return {
        "id": incident.id,
        "service": incident.service,
        "source": incident.source,
        "host": incident.source or str(incident.details.get("host", "")),
        "summary": incident.summary,
        "severity": severity,
        "severity_raw": incident.severity,
        "status": incident.status,
        "since": since,
        "labels": dict(incident.labels),
        "details": dict(incident.details),
        "alert_count": incident.alert_count,
        "url": incident.url,
        "language": lang,
    }


def _template_for(config: Mapping[str, Any], lang: str) -> str | None:
    custom = config.get("voice_template")
    if isinstance(custom, Mapping):
        return custom.get(lang) or custom.get(lang.split("-")[0])
    return custom if isinstance(custom, str) else None


def render_message(
    notification: Notification, now: datetime, voices: Mapping[str, str] = VOICES
) -> tuple[Speech, str | None]:
    """The spoken incident message and, when the custom template failed, why (the default was used)."""
    lang = normalize_language(notification.recipient.language)
    variables = incident_vars(notification.incident, lang, now)
    problem = None
    source = _template_for(notification.config, lang)
    text = None
    if source:
        try:
            text = _ENV.from_string(source).render(variables)
        except TemplateError as exc:
            problem = f"voice template failed ({type(exc).__name__}: {exc}); default used"
    task = is_task(notification.incident)
    if not text or not text.strip():
        text = _ENV.from_string(tr(lang, TASK_TEMPLATE if task else DEFAULT_TEMPLATE)).render(variables)
    text = " ".join(text.split())[:MAX_MESSAGE_CHARS]
    return Speech(text, lang, voices.get(lang, VOICES[lang]), "task_" if task else ""), problem
