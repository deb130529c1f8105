"""The delivery decisions as tables: no database, no channel, ``now`` fixed."""

from __future__ import annotations

import random

import pytest

from koban.channels.base import DeliveryResult, DeliveryStatus
from koban.paging.delivery_rules import (
    DeliveryState,
    Disposition,
    disposition,
    outcome,
    step_exhausted,
)

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("state", "kind", "incident_status", "expected"),
    [
        ("pending", "page", "triggered", Disposition.SEND),
        ("pending", "page", "acknowledged", Disposition.CANCEL),
        ("pending", "page", "resolved", Disposition.CANCEL),
        ("pending", "update", "resolved", Disposition.SEND),  # tells the channel it is over
        ("sending", "page", "triggered", Disposition.RECONCILE),
        ("in_doubt", "page", "triggered", Disposition.RECONCILE),
        ("sending", "page", "resolved", Disposition.RECONCILE),  # it may have gone out: ask first
        ("pending", "page", None, Disposition.DROP),
        ("sending", "page", None, Disposition.DROP),
    ],
)
def test_a_claimed_delivery_is_sent_reconciled_canceled_or_dropped(state, kind, incident_status, expected):
    assert disposition(state, kind, incident_status) is expected


def _out(status: DeliveryStatus, attempts: int = 0, kind: str = "page", **kw):
    result = DeliveryResult(status, **kw)
    return outcome(kind, attempts, {"m": 1}, result, NOW, max_attempts=3, rng=random.Random(7))


def test_sent_records_the_reference_and_merges_meta():
    o = _out(DeliveryStatus.SENT, provider_ref="CA1", meta={"ts": "1"})
    assert o.values["state"] == DeliveryState.SENT and o.values["provider_ref"] == "CA1"
    assert o.values["meta"] == {"m": 1, "ts": "1"} and o.values["sent_at"] == NOW
    assert (o.note_kind, o.exhausted) == ("notification.sent", False)


def test_a_call_that_rings_awaits_its_outcome():
    assert _out(DeliveryStatus.SENT, awaits_outcome=True).values["state"] == DeliveryState.AWAITING


def test_not_sent_is_due_again_at_once_without_a_note():
    o = _out(DeliveryStatus.NOT_SENT)
    assert (o.values["state"], o.values["due_at"], o.note_kind) == (DeliveryState.PENDING, NOW, None)


@pytest.mark.parametrize(
    ("status", "state", "note"),
    [
        (DeliveryStatus.TRANSIENT, DeliveryState.PENDING, "notification.retrying"),
        (DeliveryStatus.IN_DOUBT, DeliveryState.IN_DOUBT, "notification.in_doubt"),
    ],
)
def test_transient_and_in_doubt_retry_later_while_attempts_remain(status, state, note):
    o = _out(status, attempts=1)
    assert o.values["state"] == state and o.note_kind == note and not o.exhausted
    assert NOW < o.values["due_at"] <= NOW + 300


def test_retry_after_is_honoured():
    o = _out(DeliveryStatus.TRANSIENT, retry_after=120.0)
    assert o.values["due_at"] >= NOW + 120.0


@pytest.mark.parametrize("status", [DeliveryStatus.TRANSIENT, DeliveryStatus.IN_DOUBT])
def test_the_last_attempt_gives_up(status):
    o = _out(status, attempts=2)
    assert o.values["state"] == DeliveryState.FAILED and o.values["settled_at"] == NOW
    assert (o.note_kind, o.exhausted) == ("notification.failed", True)


def test_permanent_gives_up_at_once_and_only_a_page_exhausts_its_step():
    assert _out(DeliveryStatus.PERMANENT).exhausted
    assert not _out(DeliveryStatus.PERMANENT, kind="update").exhausted


def test_every_outcome_releases_the_lease():
    for status in DeliveryStatus:
        values = _out(status).values
        assert values["lease_owner"] is None and values["lease_until"] is None


@pytest.mark.parametrize(
    ("states", "exhausted"),
    [
        ([], False),  # no page yet: nothing to conclude
        (["failed"], True),
        (["failed", "not_reached", "canceled"], True),
        (["failed", "awaiting"], False),  # a call still ringing may be answered
        (["failed", "sent"], False),
        (["pending"], False),
    ],
)
def test_a_step_is_exhausted_only_when_every_page_reached_nobody(states, exhausted):
    assert step_exhausted(states) is exhausted
