"""Slack messages that are not an incident: a scheduled report and a schedule notice (no facts, no
buttons). Built with slack_sdk's models within Slack's limits, like incident messages (message.py)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from koban.channels.base import Notification
from koban.channels.slack.mrkdwn import CONTEXT_TEXT, ELLIPSIS, SECTION_TEXT, esc, esc_fit, fit

FENCE = "```"
MAX_BLOCKS = 50  # Slack refuses a message with more
ESCAPE_LEN = len("&amp;")  # the longest escape esc() writes


def escaped_pieces(text: str, limit: int) -> list[str]:
    """``esc(text)`` in pieces of at most ``limit`` characters, cut at line ends where a line fits,
    and never inside an escape (a piece ending in ``&am`` would show as garbage)."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        e = esc(line)
        if len(current) + len(e) > limit and current:
            pieces.append(current)
            current = ""
        while len(e) > limit:  # a single line longer than a piece
            cut = limit
            amp = e.rfind("&", max(0, cut - ESCAPE_LEN + 1), cut)
            if amp != -1 and ";" not in e[amp:cut]:
                cut = amp
            pieces.append(e[:cut])
            e = e[cut:]
        current += e
    if current:
        pieces.append(current)
    return pieces


def report_message(n: Notification) -> dict[str, Any]:
    """A scheduled report (reports/scheduled.py): its title, then its text as preformatted sections
    (3,000 characters each at most); past Slack's 50 blocks, the last one says it was cut."""
    title = n.incident.summary
    pieces = escaped_pieces(str(n.incident.details.get("text", "")), SECTION_TEXT - 2 * len(FENCE))
    blocks = [
        SectionBlock(
            block_id="summary", text=MarkdownTextObject(text=f"*{esc_fit(title, SECTION_TEXT - 2)}*")
        )
    ]
    if len(pieces) > MAX_BLOCKS - 1:
        pieces = pieces[: MAX_BLOCKS - 2] + [ELLIPSIS]
    blocks += [SectionBlock(text=MarkdownTextObject(text=f"{FENCE}{p}{FENCE}")) for p in pieces]
    return {"text": title[:SECTION_TEXT], "blocks": [b.to_dict() for b in blocks]}


def notice_message(n: Notification) -> dict[str, Any]:
    """A schedule notice (a handoff, a coverage gap, a swap): no incident facts and no buttons, the
    text as written in the reader's language (schedules/wording.py); its first line in bold."""
    head, _, rest = n.incident.summary.partition("\n")
    blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(text=f"*{esc_fit(head, SECTION_TEXT - 2)}*"))]
    if rest:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=fit(esc(rest), CONTEXT_TEXT))]))
    return {"text": head[:SECTION_TEXT], "blocks": [b.to_dict() for b in blocks]}
