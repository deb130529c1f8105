"""The pure decisions around a digest's posts: what a claimed post does, what an answer makes of it,
and when its run is done."""

from __future__ import annotations

import random

import pytest

from koban.channels.base import DeliveryResult
from koban.logs.post_rules import BASE, MAX_ATTEMPTS, MAYBE_POSTED, after_post, on_claim, run_status


@pytest.mark.parametrize(
    ("state", "kind", "posts"),
    [
        ("pending", "slack", True),
        ("pending", "webhook", True),
        ("sending", "webhook", True),  # the Idempotency-Key folds a resend into the first post
        ("in_doubt", "email", True),  # so does the Message-ID
        ("sending", "slack", False),  # Slack cannot: given up rather than posted twice
    ],
)
def test_a_post_that_may_have_gone_out_is_posted_again_only_where_duplicates_fold(state, kind, posts):
    decided = on_claim(state, kind)
    assert (decided is None) == posts
    if not posts:
        assert decided is not None and decided.error == MAYBE_POSTED


def test_a_transient_failure_is_retried_after_a_digest_length_backoff():
    out = after_post("slack", 0, {}, DeliveryResult.transient("HTTP 503"), 1000.0, random.Random(1))
    assert out.values["state"] == "pending"
    assert 1000.0 + BASE / 2 <= out.values["due_at"] <= 1000.0 + BASE


def test_the_vendors_retry_after_is_honoured():
    out = after_post("webhook", 0, {}, DeliveryResult.transient("429", retry_after=900), 0.0)
    assert out.values["due_at"] >= 900


def test_the_last_attempt_gives_up():
    out = after_post("webhook", MAX_ATTEMPTS - 1, {}, DeliveryResult.transient("HTTP 503"), 0.0)
    assert out.values["state"] == "failed" and out.values["due_at"] is None


def test_in_doubt_is_checked_again_on_a_webhook_and_given_up_on_slack():
    doubt = DeliveryResult.in_doubt("timed out after 10s")
    assert after_post("webhook", 0, {}, doubt, 0.0).values["state"] == "in_doubt"
    slack = after_post("slack", 0, {}, doubt, 0.0).values
    assert slack["state"] == "failed" and MAYBE_POSTED in slack["error"]


def test_a_run_is_posted_when_every_post_is_sent_and_failed_naming_those_that_were_not():
    assert run_status([("a", "sent", None), ("b", "sent", None)]) == ("posted", None)
    assert run_status([("a", "sent", None), ("b", "pending", "HTTP 503")]) is None
    assert run_status([("a", "failed", "HTTP 404"), ("b", "sent", None)]) == (
        "failed",
        "not posted to a (HTTP 404)",
    )
