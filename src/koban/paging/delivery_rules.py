"""The decisions around one delivery, pure (``now`` passed in): what a claimed row does, what a
channel's answer makes of it, and when a step has reached nobody. ``delivery.py`` does the I/O."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from koban.channels.base import DeliveryResult, DeliveryStatus
from koban.domain.escalation import Status
from koban.paging.backoff import retry_delay


class DeliveryState(StrEnum):
    PENDING = "pending"  # due at ``due_at``
    SENDING = "sending"  # claimed and handed to the channel; a crash leaves it here (reconcile)
    SENT = "sent"
    AWAITING = "awaiting"  # sent; the outcome comes later (a call ringing)
    REACHED = "reached"  # delivered and answered by the person (calls)
    IN_DOUBT = "in_doubt"  # the channel could not tell whether it went out: reconcile, then resend
    FAILED = "failed"
    CANCELED = "canceled"
    NOT_REACHED = "not_reached"  # delivered, but the person did not answer (calls)


# A page in one of these reached nobody.
NOT_REACHED = (DeliveryState.FAILED, DeliveryState.NOT_REACHED, DeliveryState.CANCELED)
# A delivery in one of these can still be settled by its outcome (a call's status callback).
OPEN = (DeliveryState.AWAITING, DeliveryState.SENT, DeliveryState.SENDING, DeliveryState.IN_DOUBT)


class Disposition(StrEnum):
    SEND = "send"
    RECONCILE = "reconcile"  # an earlier attempt may have gone out: ask the channel first
    CANCEL = "cancel"  # a page for an incident no longer triggered
    DROP = "drop"  # its incident is gone


def disposition(state: str, kind: str, incident_status: str | None) -> Disposition:
    """What a claimed delivery does, given its row's state and kind and its incident's status
    (None: the incident is gone). Updates (``kind`` other than page) go out whatever the status:
    they tell the channel the incident was acknowledged or resolved."""
    if incident_status is None:
        return Disposition.DROP
    if state != DeliveryState.PENDING:
        return Disposition.RECONCILE
    if kind == "page" and incident_status != Status.TRIGGERED:
        return Disposition.CANCEL
    return Disposition.SEND


@dataclass(frozen=True, slots=True)
class Outcome:
    values: dict[str, Any]  # the row's new columns
    note_kind: str | None  # the timeline entry to write, if any
    exhausted: bool  # a page given up for good: its step may have reached nobody


def outcome(
    kind: str,
    attempts: int,
    meta: Mapping[str, Any] | None,
    result: DeliveryResult,
    now: float,
    max_attempts: int,
    rng: random.Random | None = None,
    *,
    base: float = 1.0,
    cap: float = 300.0,
) -> Outcome:
    """What the channel's answer to attempt ``attempts + 1`` makes of the row: sent, retried later
    (transient, with backoff and the vendor's Retry-After), checked again later (in doubt), or
    given up (permanent, or out of attempts). ``base`` and ``cap`` bound the backoff: seconds for a
    page, longer for a digest (logs/post_rules.py), which can wait out a receiver's outage."""
    values: dict[str, Any] = {"error": result.error, "lease_owner": None, "lease_until": None}
    attempt = attempts + 1
    match result.status:
        case DeliveryStatus.SENT:
            values.update(
                state=DeliveryState.AWAITING if result.awaits_outcome else DeliveryState.SENT,
                sent_at=now,
                due_at=None,
                provider_ref=result.provider_ref,
                meta={**(meta or {}), **dict(result.meta)},
            )
            return Outcome(values, _sent_note(kind, result), False)
        case DeliveryStatus.NOT_SENT:
            values.update(state=DeliveryState.PENDING, due_at=now)
            return Outcome(values, None, False)
        case DeliveryStatus.TRANSIENT if attempt < max_attempts:
            delay = retry_delay(attempt, result.retry_after, base=base, cap=cap, rng=rng)
            values.update(state=DeliveryState.PENDING, due_at=now + delay)
            return Outcome(values, "notification.retrying", False)
        case DeliveryStatus.IN_DOUBT if attempt < max_attempts:
            delay = retry_delay(attempt, result.retry_after, base=base, cap=cap, rng=rng)
            values.update(state=DeliveryState.IN_DOUBT, due_at=now + delay)
            return Outcome(values, "notification.in_doubt", False)
        case _:
            values.update(state=DeliveryState.FAILED, due_at=None, settled_at=now)
            return Outcome(values, "notification.failed", kind == "page")


def _sent_note(kind: str, result: DeliveryResult) -> str | None:
    """A hangup (stop.py) is on the timeline only when it ended a call: not when the call was over
    already, nor when it was answered meanwhile (its TwiML tells the person instead)."""
    if kind != "hangup":
        return "notification.sent"
    return "call.hung_up" if result.meta.get("call_status") in ("canceled", "completed") else None


def step_exhausted(page_states: Iterable[str]) -> bool:
    """Every page of a (step, loop) ended without reaching anyone: escalate now, not at the timeout."""
    states = list(page_states)
    return bool(states) and all(s in NOT_REACHED for s in states)
