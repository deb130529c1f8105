"""Applying call events to the stored call state, and settling calls whose callbacks never came."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from koban.channels.base import Notification
from koban.channels.voice.deps import TwilioDeps
from koban.channels.voice.state import (
    API_SEQUENCE,
    TERMINAL,
    CallState,
    Effect,
    KeyEvent,
    KeyWaitOver,
    Note,
    Settle,
    StatusEvent,
    reduce,
)

log = logging.getLogger(__name__)
CAS_ATTEMPTS = 8


async def apply_event(
    deps: TwilioDeps, notification: Notification, event: StatusEvent | KeyEvent | KeyWaitOver
) -> CallState:
    """Reduce ``event`` into the stored state (compare-and-set, retried), then act on the effects.

    Effects run after the state is saved so concurrent duplicates cannot both settle the call."""
    key = notification.key
    for _ in range(CAS_ATTEMPTS):
        old = await deps.call_states.load(key)
        new, effects = reduce(old or CallState(), event)
        if new == (old or CallState()) or await deps.call_states.save(key, new, expected=old):
            break
    else:
        raise RuntimeError(f"call state for {key} kept changing; gave up after {CAS_ATTEMPTS} tries")
    await run_effects(deps, notification, new, effects)
    return new


async def run_effects(deps: TwilioDeps, n: Notification, state: CallState, effects: list[Effect]) -> None:
    for effect in effects:
        if isinstance(effect, Note):
            data: dict[str, Any] = {**effect.data, "delivery": n.key, "to": n.recipient.address}
            await deps.actions.note(
                n.incident.id, effect.kind, actor=n.recipient.person, via="voice", data=data
            )
        elif isinstance(effect, Settle):
            detail = {"detail": effect.detail, "call_sid": state.sid, "answered_by": state.answered_by}
            await deps.actions.record_outcome(n.key, effect.outcome, detail=detail)


async def end_key_wait(deps: TwilioDeps, notification: Notification) -> CallState:
    """For koban to run once a held call's ``late_key_grace`` has passed: it settles as no key."""
    return await apply_event(deps, notification, KeyWaitOver())


def key_wait_over(state: CallState, now: float, grace: float) -> bool:
    """Pure: whether a held call (ended answered, no key) has waited out its grace."""
    return state.awaiting_key and now >= (state.ended_at or 0.0) + grace


def final_event(call: Any, now: float | None = None) -> StatusEvent | None:
    """A call resource read from the API as a terminal StatusEvent, or None while it is still live."""
    if call.status not in TERMINAL:
        return None
    duration = int(call.duration) if call.duration not in (None, "") else None
    return StatusEvent(call.sid, call.status, API_SEQUENCE, call.answered_by, duration, now)


async def settle_overdue_call(
    deps: TwilioDeps, client: Client, notification: Notification, call_sid: str
) -> CallState | None:
    """For koban to run once ring timeout + talk time has passed without a final callback.

    Fetches the call; a finished call is settled from what the API says. A call still queued or ringing
    past its timeout is canceled (then settled as canceled). A call in progress returns None: the
    person is talking, check again later. Unknown sid (404) settles as failed."""
    try:
        call = await asyncio.to_thread(client.calls(call_sid).fetch)
    except TwilioRestException as exc:
        if exc.status != 404:
            raise
        return await apply_event(deps, notification, StatusEvent(call_sid, "failed", API_SEQUENCE))
    if call.status in ("queued", "ringing"):
        call = await asyncio.to_thread(client.calls(call_sid).update, status="canceled")
        if call.status not in TERMINAL:  # Twilio answers before the hangup lands: settle as canceled
            return await apply_event(deps, notification, StatusEvent(call_sid, "canceled", API_SEQUENCE))
    event = final_event(call, deps.clock())
    if event is None:
        return None
    log.info("settling call %s from the API: %s", call_sid, event.status)
    return await apply_event(deps, notification, event)
