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

ACTIONS_BLOCK_ID = "incident_actions"
BUTTON_ACTION_IDS = {"ack": "acknowledge", "resolve": "resolve", "escalate": "escalate"}
LINK_ACTION_PREFIX = "link_"  # url buttons: Slack still posts a click, which we ignore

COLOURS = {"critical": "#E01E5A", "error": "#E8912D", "warning": "#ECB22E", "info": "#36C5F0"}
RESOLVED_COLOUR = "#2EB67D"
_LINK_LABELS = {
    "acknowledge": "Acknowledge (link)",
    "resolve": "Resolve (link)",
    "escalate": "Escalate (link)",
}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "unknown time"


def is_task(incident: IncidentView) -> bool:
    """A task opened by a calendar event (docs/calendars.md): Start and Done instead of Acknowledge
    and Resolve, the same actions underneath."""
    return incident.details.get("kind") == "task"


def title(incident: IncidentView) -> str:
    if is_task(incident):
        return f"[TASK] {incident.summary} (task {incident.id})"
    return f"[{incident.severity.upper()}] {incident.summary} (incident {incident.id})"


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


def buttons(incident: IncidentView, links: Mapping[str, str]) -> list[dict[str, Any]]:
    if incident.status == "resolved":
        return []
    value = f"incident:{incident.id}:{incident.step}:{incident.loop}"
    out = []
    if is_task(incident):  # no Escalate: a task's reminder and escalation come from its timer
        if incident.status != "acknowledged":
            out.append(_button("ack", "Start", value, "primary"))
        return [*out, _button("resolve", "Done", value)]
    if incident.status != "acknowledged":
        out.append(_button("ack", "Acknowledge", value, "primary"))
    out.append(_button("resolve", "Resolve", value))
    out.append(_button("escalate", "Escalate", value, "danger"))
    for action, url in links.items():
        if action in _LINK_LABELS and (action != "acknowledge" or incident.status != "acknowledged"):
            link = ButtonElement(
                action_id=f"{LINK_ACTION_PREFIX}{action}", text=_LINK_LABELS[action], value=value, url=url
            )
            out.append(link.to_dict())
    return out


def state_line(incident: IncidentView) -> str | None:
    task = is_task(incident)
    if incident.status == "resolved":
        return f":white_check_mark: {'Done' if task else 'Resolved'} at {_when(incident.resolved_at)}"
    if incident.acknowledged_by or incident.status == "acknowledged":
        who = esc(incident.acknowledged_by or "someone")
        via = f" via {esc(incident.acknowledged_via)}" if incident.acknowledged_via else ""
        if task:
            return f":arrow_forward: Started by *{who}*{via} at {_when(incident.acknowledged_at)}"
        return f":eyes: Acknowledged by *{who}*{via} at {_when(incident.acknowledged_at)}"
    return None


def timeline_text(n: Notification) -> str:
    """The thread reply posted under the original message on each update."""
    line = state_line(n.incident)
    if line is not None:
        return line
    if is_task(n.incident) and n.step == 1 and n.loop == 0:
        return ":alarm_clock: Reminder: nobody has started this task yet"
    if n.step > 0 or n.loop > 0:
        names = ", ".join(esc(x) for x in on_call_names(n)) or "the next step"
        return f":rotating_light: Escalated (step {n.step + 1}): notifying {names}"
    return f"Status: {esc(n.incident.status)}"


def _links_line(incident: IncidentView) -> str:
    parts = []
    if incident.url:
        parts.append(f"<{incident.url}|Incident {incident.id} in koban>")
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
    heading = f"*{esc_fit(title(inc), SECTION_TEXT - 2)}*"
    if inc.url and len(inc.url) < SECTION_TEXT // 2:
        heading = f"*<{inc.url}|{esc_fit(title(inc), SECTION_TEXT - len(inc.url) - 5)}>*"
    facts = f"Service: *{esc(inc.service)}* · Status: *{esc(inc.status)}*"
    if inc.source:
        facts += f" · Source: {esc(inc.source)}"
    if inc.alert_count > 1:
        facts += f" · {inc.alert_count} alerts"
    body: list[dict[str, Any]] = [
        SectionBlock(text=MarkdownTextObject(text=fit(facts, SECTION_TEXT))).to_dict()
    ]
    context = [x for x in (_links_line(inc), _on_call_line(n), state_line(inc)) if x]
    for line in context:
        body.append(ContextBlock(elements=[MarkdownTextObject(text=fit(line, CONTEXT_TEXT))]).to_dict())
    elements = buttons(inc, n.links)
    if elements:
        body.append(ActionsBlock(block_id=ACTIONS_BLOCK_ID, elements=elements).to_dict())
    colour = RESOLVED_COLOUR if inc.status == "resolved" else COLOURS.get(inc.severity, COLOURS["critical"])
    summary = SectionBlock(block_id="summary", text=MarkdownTextObject(text=heading)).to_dict()
    return {
        "text": title(inc)[:SECTION_TEXT],
        "blocks": [summary],
        "attachments": [{"color": colour, "fallback": title(inc)[:SECTION_TEXT], "blocks": body}],
    }


def _on_call_line(n: Notification) -> str | None:
    names = on_call_names(n)
    return f"On call: {', '.join(esc(x) for x in names)}" if names else None
