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

DEFAULT_LANGUAGE = "en-US"
VOICES: Mapping[str, str] = {"en-US": "Polly.Joanna", "ja-JP": "Polly.Mizuki"}
MAX_MESSAGE_CHARS = 1000  # <Say> takes 4096; a page longer than this is not heard to the end anyway

PHRASES: Mapping[str, Mapping[str, str]] = {
    "en-US": {
        "menu": "Press 1 to acknowledge, 2 to pass to the next person, 3 to resolve, or star to repeat.",
        "acknowledge": "Acknowledged. Thank you.",
        "escalate": "Passing this to the next person now.",
        "resolve": "Marked as resolved.",
        "repeat": "Repeating the message.",
        "invalid": "Sorry, that key is not valid.",
        "failed": "Sorry, that could not be done.",
        "goodbye": "No key was pressed. Goodbye.",
        "unavailable": "This alert is no longer available. Goodbye.",
        "over_acknowledged": "This incident has been acknowledged. No action is needed. Goodbye.",
        "over_resolved": "This incident has been resolved. No action is needed. Goodbye.",
        # A calendar task (docs/calendars.md): the same keys, in the task's words.
        "task_menu": "Press 1 to start the task, 2 to pass it to the next person, 3 when it is done, "
        "or star to repeat.",
        "task_acknowledge": "Started. Thank you.",
        "task_escalate": "Passing this task to the next person now.",
        "task_resolve": "Marked as done.",
    },
    "ja-JP": {
        "menu": "確認する場合は1を、次の担当者に回す場合は2を、解決済みにする場合は3を、"
        "もう一度聞く場合はアスタリスクを押してください。",
        "acknowledge": "確認済みにしました。ありがとうございます。",
        "escalate": "次の担当者に回します。",
        "resolve": "解決済みにしました。",
        "repeat": "もう一度繰り返します。",
        "invalid": "そのキーは無効です。",
        "failed": "申し訳ありません、操作できませんでした。",
        "goodbye": "キーが押されなかったため、電話を切ります。",
        "unavailable": "このアラートは無効になりました。失礼します。",
        "over_acknowledged": "このインシデントは確認済みです。対応は不要です。失礼します。",
        "over_resolved": "このインシデントは解決済みです。対応は不要です。失礼します。",
        "task_menu": "作業を開始する場合は1を、次の担当者に回す場合は2を、完了した場合は3を、"
        "もう一度聞く場合はアスタリスクを押してください。",
        "task_acknowledge": "作業を開始にしました。ありがとうございます。",
        "task_escalate": "この作業を次の担当者に回します。",
        "task_resolve": "作業を完了にしました。",
    },
}

SEVERITY_WORDS: Mapping[str, Mapping[str, str]] = {
    "en-US": {"critical": "critical", "error": "error", "warning": "warning", "info": "info"},
    "ja-JP": {"critical": "緊急", "error": "重大", "warning": "警告", "info": "情報"},
}

DEFAULT_TEMPLATES: Mapping[str, str] = {
    "en-US": "Alert from koban. {{ severity }} incident on {{ service }}"
    "{% if source %}, host {{ source }}{% endif %}: {{ summary }}. Started {{ since }} ago.",
    "ja-JP": "コバンからのアラートです。{{ service }}{% if source %}、ホスト {{ source }}{% endif %}で、"
    "{{ severity }}の障害が発生しました。{{ summary }}。発生から{{ since }}が経過しています。",
}

TASK_TEMPLATES: Mapping[str, str] = {
    "en-US": "A task from koban on {{ service }}: {{ summary }}. Nobody has started it yet.",
    "ja-JP": "コバンからの作業のお知らせです。{{ service }}の{{ summary }}が、まだ開始されていません。",
}

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
    table = PHRASES[normalize_language(language)]
    return table.get(words + name) or table[name]


def normalize_language(value: str | None) -> str:
    """``ja``, ``ja_jp``, ``JA-JP`` → ``ja-JP``; unsupported → en-US (Twilio rejects unknown pairs)."""
    tag = (value or "").replace("_", "-").strip().lower()
    for supported in PHRASES:
        if tag in (supported.lower(), supported.split("-")[0].lower()):
            return supported
    return DEFAULT_LANGUAGE


def phrase(language: str, name: str) -> str:
    return PHRASES[normalize_language(language)][name]


def humanize_duration(seconds: float, language: str) -> str:
    minutes = max(0, int(seconds // 60))
    hours, mins = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if normalize_language(language) == "ja-JP":
        if minutes == 0:
            return "1分未満"
        return "".join(f"{n}{unit}" for n, unit in ((days, "日"), (hours, "時間"), (mins, "分")) if n)
    if minutes == 0:
        return "less than a minute"
    parts = [(days, "day"), (hours, "hour"), (mins, "minute")]
    return " ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n)


def incident_vars(incident: IncidentView, language: str, now: datetime) -> dict[str, Any]:
    """The variables a voice or SMS template sees."""
    lang = normalize_language(language)
    severity = SEVERITY_WORDS[lang].get(incident.severity, incident.severity)
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
        text = _ENV.from_string((TASK_TEMPLATES if task else DEFAULT_TEMPLATES)[lang]).render(variables)
    text = " ".join(text.split())[:MAX_MESSAGE_CHARS]
    return Speech(text, lang, voices.get(lang, VOICES[lang]), "task_" if task else ""), problem
