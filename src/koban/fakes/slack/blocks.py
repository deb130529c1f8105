"""Block Kit validation as Slack does it, with slack_sdk's own models (their limits: section text
3,000 characters, header 150, button text 75, value 2,000, 25 elements an actions block...).

A message Slack would refuse is refused here with the same error, ``invalid_blocks``: a fake that
accepts anything hides the messages real Slack bounces (STYLE.md, habit 19).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block


def _valid(blocks: Any) -> bool:
    if blocks in (None, ""):
        return True
    if not isinstance(blocks, list) or len(blocks) > 50:
        return False
    for raw in blocks:
        try:
            block = Block.parse(raw)
            if block is None:
                return False
            block.to_dict()  # validates every limit the models know
        except (SlackObjectFormationError, KeyError, TypeError, ValueError):
            return False
    return True


def invalid_blocks(args: Mapping[str, Any]) -> bool:
    """Whether a chat.postMessage / chat.update / webhook body carries blocks Slack would refuse."""
    attachments = args.get("attachments") or []
    if not isinstance(attachments, list):
        return True
    return not _valid(args.get("blocks")) or not all(
        isinstance(a, dict) and _valid(a.get("blocks")) for a in attachments
    )
