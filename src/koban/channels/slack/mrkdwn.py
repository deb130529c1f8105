"""Slack mrkdwn text within Slack's limits: escaping, and cutting that never splits an escape.

Limits are counted after ``&`` becomes ``&amp;`` (Slack counts what it receives); slack_sdk's block
models check them, and the Slack fake refuses what Slack would (``invalid_blocks``).
"""

from __future__ import annotations

SECTION_TEXT = 3000  # Slack's limits (slack_sdk's models check them)
CONTEXT_TEXT = 3000
BUTTON_TEXT = 75
ELLIPSIS = "…"


def esc(text: str) -> str:
    """Slack mrkdwn needs &, < and > escaped; everything else is literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_fit(text: str, limit: int) -> str:
    """``esc(text)`` in at most ``limit`` characters: cut before escaping, so no ``&amp;`` is split."""
    if len(esc(text)) <= limit:
        return esc(text)
    lo, hi = 0, len(text)  # the longest prefix whose escaped form leaves room for the ellipsis
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(esc(text[:mid])) + len(ELLIPSIS) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return esc(text[:lo]) + ELLIPSIS


def fit(text: str, limit: int) -> str:
    """Already-escaped mrkdwn cut to ``limit`` (lines built from escaped parts and links)."""
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rsplit(" ", 1)[0] + ELLIPSIS
