"""The decisions around a digest's post rows, pure (``now`` passed in): what a claimed row does, what
a channel's answer makes of it, and what the run's status is once its posts settle.

A post is a delivery like a page's: its answer goes through ``paging.delivery_rules.outcome`` (sent,
retried with backoff and Retry-After, in doubt, or given up), with a digest's longer backoff (a
receiver's outage of an hour should not lose the morning's digest). A post that may have gone out
(a crash while posting, a timeout after sending) is posted again only to receivers that fold
duplicates: a webhook by the Idempotency-Key, email by the Message-ID. Slack cannot, so there it is
given up and says so: once per window means never twice.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any

from koban.channels.base import DeliveryResult, DeliveryStatus
from koban.paging.delivery_rules import DeliveryState, Outcome, outcome

MAX_ATTEMPTS = 8
BASE = 30.0  # seconds before the first retry (up to twice that, jittered), doubling from there
CAP = 3600.0
# Receivers that fold a resend of the same post into the first: it may be sent again when in doubt.
FOLDS_DUPLICATES = ("webhook", "email")
OPEN = (DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.IN_DOUBT)
MAYBE_POSTED = "may have been posted already (in doubt); not posted again so that nobody gets it twice"


def on_claim(state: str, channel_type: str) -> DeliveryResult | None:
    """None: post it. Else the answer to record without posting (a post in doubt on Slack)."""
    if state == DeliveryState.PENDING or channel_type in FOLDS_DUPLICATES:
        return None
    return DeliveryResult.permanent(MAYBE_POSTED)


def after_post(
    channel_type: str,
    attempts: int,
    meta: Mapping[str, Any] | None,
    result: DeliveryResult,
    now: float,
    rng: random.Random | None = None,
) -> Outcome:
    """What the answer to a post makes of its row; in doubt on Slack is given up at once."""
    if result.status == DeliveryStatus.IN_DOUBT and channel_type not in FOLDS_DUPLICATES:
        result = DeliveryResult.permanent(f"{MAYBE_POSTED} ({result.error})")
    return outcome("digest", attempts, meta, result, now, MAX_ATTEMPTS, rng, base=BASE, cap=CAP)


def run_status(posts: Iterable[tuple[str, str, str | None]]) -> tuple[str, str | None] | None:
    """From each post's (channel, state, error): the run's final status and error, or None while a
    post is still being sent or retried."""
    failed = []
    for channel, state, error in posts:
        if state in OPEN:
            return None
        if state != DeliveryState.SENT:
            failed.append(f"{channel} ({error or state})")
    return ("failed", "not posted to " + ", ".join(failed)) if failed else ("posted", None)


def posts_shown(posts: Iterable[tuple[str, str, str | None]]) -> dict[str, str]:
    """Per channel, what the run row's ``posts`` says: "sent", or the state and why."""
    return {ch: state if state == DeliveryState.SENT else f"{state}: {error}" for ch, state, error in posts}
