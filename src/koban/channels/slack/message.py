"""Pure Block Kit rendering of an incident for Slack (no I/O, no clock).

Layout: a top-level section with the title (so the notification text reads well), then one attachment
whose colour bar shows severity (green once resolved) holding details, links, who is on call, the
acknowledgement line and the buttons.

Blocks are built with slack_sdk's models, whose ``to_dict`` checks Slack's limits, and every text is
cut to its limit first (section text 3,000 characters, counted after ``&`` becomes ``&amp;``; button
text 75): a long summary is shortened with an ellipsis, never refused as ``invalid_blocks``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from koban.channels.base import IncidentView, Notification
from koban.channels.slack.mrkdwn import BUTTON_TEXT, CONTEXT_TEXT, SECTION_TEXT, esc, esc_fit, fit
from koban.channels.slack.plain_messages import notice_message, report_message
from koban.core.i18n import M_, tr, trn

ACTIONS_BLOCK_ID = "incident_actions"
BUTTON_ACTION_IDS = {"ack": "acknowledge", "resolve": "resolve", "escalate": "escalate"}
LINK_ACTION_PREFIX = "link_"  # url buttons: Slack still posts a click, which we ignore

COLOURS = {"critical": "#E01E5A", "error": "#E8912D", "warning": "#ECB22E", "info": "#36C5F0"}
RESOLVED_COLOUR = "#2EB67D"
_LINK_LABELS = {
    "acknowledge": M_("Acknowledge (link)"),
    "resolve": M_("Resolve (link)"),
    "escalate": M_("Escalate (link)"),
}
# Every text below is in the reader's language (``lang``: the recipient's; None reads English) through
# the outbound catalogue (core/i18n.py); mrkdwn marks and emoji stay outside the words translated
# where they can, and values are escaped before they go in.


def _when(value: datetime | None, lang: str | None = None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else tr(lang, "unknown time")


def is_task(incident: IncidentView) -> bool:
    """A task opened by a calendar event (docs/calendars.md): Start and Done instead of Acknowledge
    and Resolve, the same actions underneath."""
    return incident.details.get("kind") == "task"


def title(incident: IncidentView, lang: str | None = None) -> str:
    if is_task(incident):
        return tr(lang, "[TASK] {summary} (task {id})", summary=incident.summary, id=incident.id)
    severity = incident.severity.upper()
    return tr(
        lang,
        "[{severity}] {summary} (incident {id})",
        severity=severity,
        summary=incident.summary,
        id=incident.id,
    )


def on_call_names(n: Notification) -> list[str]:
    configured = n.config.get("on_call")
    if isinstance(configured, str):
        return [configured]
    if configured:
        return [str(x) for x in configured]
    if n.recipient.person:
        return [n.recipient.name or n.recipient.person]
    return []


def _button(action_id: str, text: str, value: str, style: str | None = None) -> dict[str, Any]:
    return ButtonElement(action_id=action_id, text=text[:BUTTON_TEXT], value=value, style=style).to_dict()


def buttons(
    incident: IncidentView, links: Mapping[str, str], lang: str | None = None
) -> list[dict[str, Any]]:
    if incident.status == "resolved":
        return []
    value = f"incident:{incident.id}:{incident.step}:{incident.loop}"
    out = []
    if is_task(incident):  # no Escalate: a task's reminder and escalation come from its timer
        if incident.status != "acknowledged":
            out.append(_button("ack", tr(lang, "Start"), value, "primary"))
        return [*out, _button("resolve", tr(lang, "Done"), value)]
    if incident.status != "acknowledged":
        out.append(_button("ack", tr(lang, "Acknowledge"), value, "primary"))
    out.append(_button("resolve", tr(lang, "Resolve"), value))
    out.append(_button("escalate", tr(lang, "Escalate"), value, "danger"))
    for action, url in links.items():
        if action in _LINK_LABELS and (action != "acknowledge" or incident.status != "acknowledged"):
            link = ButtonElement(
                action_id=f"{LINK_ACTION_PREFIX}{action}",
                text=tr(lang, _LINK_LABELS[action]),
                value=value,
                url=url,
            )
            out.append(link.to_dict())
    return out


def state_line(incident: IncidentView, lang: str | None = None) -> str | None:
    task = is_task(incident)
    if incident.status == "resolved":
        done = M_("Done at {when}") if task else M_("Resolved at {when}")
        return ":white_check_mark: " + tr(lang, done, when=_when(incident.resolved_at, lang))
    if incident.acknowledged_by or incident.status == "acknowledged":
        who = esc(incident.acknowledged_by or tr(lang, "someone"))
        door = incident.acknowledged_via
        via = " " + tr(lang, "via {door}", door=esc(door)) if door else ""
        when = _when(incident.acknowledged_at, lang)
        if task:
            return ":arrow_forward: " + tr(
                lang, "Started by *{who}*{via} at {when}", who=who, via=via, when=when
            )
        return ":eyes: " + tr(lang, "Acknowledged by *{who}*{via} at {when}", who=who, via=via, when=when)
    return None


def timeline_text(n: Notification) -> str:
    """The thread reply posted under the original message on each update."""
    lang = n.recipient.language
    line = state_line(n.incident, lang)
    if line is not None:
        return line
    if is_task(n.incident) and n.step == 1 and n.loop == 0:
        return ":alarm_clock: " + tr(lang, "Reminder: nobody has started this task yet")
    if n.step > 0 or n.loop > 0:
        names = ", ".join(esc(x) for x in on_call_names(n)) or tr(lang, "the next step")
        return ":rotating_light: " + tr(
            lang, "Escalated (step {step}): notifying {names}", step=n.step + 1, names=names
        )
    return tr(lang, "Status: {status}", status=esc(n.incident.status))


def _links_line(incident: IncidentView, lang: str | None) -> str:
    parts = []
    if incident.url:
        # Out of the f-string: Babel's extraction does not read inside one.
        name = tr(lang, "Incident {id} in koban", id=incident.id)
        parts.append(f"<{incident.url}|{name}>")
    for link in incident.links:
        href = link.get("href")
        if href:
            parts.append(f"<{href}|{esc(link.get('text') or href)}>")
    return " · ".join(parts)


def build_message(n: Notification) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage / chat.update / an incoming webhook body."""
    if n.kind == "report":
        return report_message(n)
    if n.kind == "notice":
        return notice_message(n)
    inc = n.incident
    lang = n.recipient.language
    heading = f"*{esc_fit(title(inc, lang), SECTION_TEXT - 2)}*"
    if inc.url and len(inc.url) < SECTION_TEXT // 2:
        heading = f"*<{inc.url}|{esc_fit(title(inc, lang), SECTION_TEXT - len(inc.url) - 5)}>*"
    facts = tr(
        lang, "Service: *{service}* · Status: *{status}*", service=esc(inc.service), status=esc(inc.status)
    )
    if inc.source:
        facts += " · " + tr(lang, "Source: {source}", source=esc(inc.source))
    if inc.alert_count > 1:
        facts += " · " + trn(lang, "{n} alert", "{n} alerts", inc.alert_count)
    body: list[dict[str, Any]] = [
        SectionBlock(text=MarkdownTextObject(text=fit(facts, SECTION_TEXT))).to_dict()
    ]
    context = [x for x in (_links_line(inc, lang), _on_call_line(n), state_line(inc, lang)) if x]
    for line in context:
        body.append(ContextBlock(elements=[MarkdownTextObject(text=fit(line, CONTEXT_TEXT))]).to_dict())
    elements = buttons(inc, n.links, lang)
    if elements:
        body.append(ActionsBlock(block_id=ACTIONS_BLOCK_ID, elements=elements).to_dict())
    colour = RESOLVED_COLOUR if inc.status == "resolved" else COLOURS.get(inc.severity, COLOURS["critical"])
    summary = SectionBlock(block_id="summary", text=MarkdownTextObject(text=heading)).to_dict()
    return {
        "text": title(inc, lang)[:SECTION_TEXT],
        "blocks": [summary],
        "attachments": [{"color": colour, "fallback": title(inc, lang)[:SECTION_TEXT], "blocks": body}],
    }


def _on_call_line(n: Notification) -> str | None:
    names = on_call_names(n)
    listed = ", ".join(esc(x) for x in names)
    return tr(n.recipient.language, "On call: {names}", names=listed) if names else None
