"""Calls whose outcome never arrived: settled from what the Twilio API says.

Every worker process sweeps every ``SWEEP_SECONDS``. The decision (``sweep_plan``) is pure:

- a call whose stored state already settled while its row is still open (the callback lost a race
  with the sender) is settled again from that state;
- a call that ended answered with no key yet (held: its key press may still be in flight) settles as
  no key once its ``late_key_grace`` has passed (``end_key_wait``);
- a call still open ``ring_timeout + overdue_after`` seconds after it was placed is fetched from the
  API (``settle_overdue_call``): finished → settled from the API; still ringing → canceled and settled;
  in progress → asked again after ``RECHECK_SECONDS``.

Safe with several instances: the call state is compare-and-set and a row settles once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from koban.bootstrap.wiring.twilio import TwilioWiring
from koban.channels.voice import end_key_wait, key_wait_over, settle_overdue_call
from koban.channels.voice.state import CallState
from koban.db import schema as t
from koban.paging.delivery_rules import DeliveryState

if TYPE_CHECKING:
    from koban.bootstrap.wiring.deps import Wired

log = logging.getLogger("koban.twilio")
SWEEP_SECONDS = 2.0
RECHECK_SECONDS = 30.0
OPEN = (DeliveryState.AWAITING, DeliveryState.IN_DOUBT)


@dataclass(frozen=True, slots=True)
class SweepItem:
    key: str
    action: str  # "resettle" | "key_wait_over" | "fetch"
    sid: str | None = None


def sweep_plan(
    rows: Sequence[Mapping[str, Any]],
    states: Mapping[str, CallState],
    now: float,
    deadline_after: Callable[[str], float | None],
    not_before: Mapping[str, float],
    grace: Callable[[str], float] = lambda _channel: 0.0,
) -> list[SweepItem]:
    plan = []
    for row in rows:
        key = row["key"]
        state = states.get(key)
        if state is not None and state.settled:
            plan.append(SweepItem(key, "resettle"))
            continue
        if state is not None and state.awaiting_key:
            if key_wait_over(state, now, grace(row["channel_id"])):
                plan.append(SweepItem(key, "key_wait_over"))
            continue
        sid = row.get("provider_ref") or (state.sid if state else None)
        after = deadline_after(row["channel_id"])
        sent = row.get("sent_at") or row.get("sending_at")
        if sid and after is not None and sent and now >= sent + after and now >= not_before.get(key, 0):
            plan.append(SweepItem(key, "fetch", sid))
    return plan


class Sweeper:
    def __init__(self, wired: Wired) -> None:
        self.wired = wired
        self.wiring = TwilioWiring(wired)
        self.not_before: dict[str, float] = {}

    def deadline_after(self, channel_id: str) -> float | None:
        s = self.wiring.settings_by_channel().get(channel_id)
        return None if s is None else float(s.ring_timeout + s.overdue_after)

    def grace(self, channel_id: str) -> float:
        s = self.wiring.settings_by_channel().get(channel_id)
        return 0.0 if s is None else s.late_key_grace

    async def once(self) -> int:
        wired = self.wired
        d = t.deliveries.c
        async with wired.db.read() as conn:
            rows = [
                dict(r)
                for r in (
                    await conn.execute(
                        sa.select(d.key, d.channel_id, d.provider_ref, d.sent_at, d.sending_at).where(
                            d.channel_type == "voice", d.state.in_(OPEN)
                        )
                    )
                ).mappings()
            ]
        deps = self.wiring.deps()
        if not rows or deps is None:
            return 0
        states = await deps.call_states.load_many([r["key"] for r in rows])  # type: ignore[attr-defined]
        plan = sweep_plan(rows, states, wired.clock.now(), self.deadline_after, self.not_before, self.grace)
        channel_of = {r["key"]: r["channel_id"] for r in rows}
        for item in plan:
            try:
                await self._act(deps, item, states.get(item.key), channel_of[item.key])
            except Exception:
                log.exception("could not settle call %s", item.key)
                self.not_before[item.key] = wired.clock.now() + RECHECK_SECONDS
        return len(plan)

    async def _act(self, deps: Any, item: SweepItem, state: CallState | None, channel_id: str) -> None:
        if item.action == "resettle" and state is not None and state.outcome is not None:
            detail = {"detail": state.detail, "call_sid": state.sid, "answered_by": state.answered_by}
            await deps.actions.record_outcome(item.key, state.outcome, detail=detail)
            return
        n = await self.wiring.resolve_delivery(item.key)
        if n is not None and item.action == "key_wait_over":
            await end_key_wait(deps, n)
            return
        if n is None or item.sid is None:
            return
        channel = self.wired.channel(channel_id)
        log.info("call %s for %s had no final callback; asking Twilio", item.sid, item.key)
        settled = await settle_overdue_call(deps, channel.inner.client, n, item.sid)  # type: ignore[attr-defined]
        if settled is None or not settled.settled:
            self.not_before[item.key] = self.wired.clock.now() + RECHECK_SECONDS


async def run_sweeper(wired: Wired) -> None:
    sweeper = Sweeper(wired)
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            await sweeper.once()
        except Exception:
            log.exception("twilio sweep failed")
