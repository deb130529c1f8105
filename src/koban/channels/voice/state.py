"""The call-state reducer: Twilio status callbacks and key presses in, facts and one settlement out.

Twilio may deliver callbacks out of order or twice (protocols.md §1.6): an event whose
``SequenceNumber`` is not greater than the last applied one is ignored, and nothing after a terminal
status changes the call. A call settles exactly once: on the first deciding key (1/2/3: REACHED) or
on its terminal status (busy, no-answer, failed, canceled, machine, completed without a key:
NOT_REACHED). Pure: the handlers load the state, reduce, save (compare-and-set), then act on effects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from koban.channels.actions import Outcome

TERMINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
DECIDING_KEYS = frozenset({"1", "2", "3"})
# Sequence for a status read back from the REST API (no callback came): sorts after any real one.
API_SEQUENCE = 1_000_000


@dataclass(frozen=True, slots=True)
class CallState:
    sid: str | None = None
    status: str = "queued"
    last_seq: int = -1
    answered_by: str | None = None
    digit: str | None = None  # the deciding key, once pressed
    outcome: Outcome | None = None
    detail: str | None = None

    @property
    def settled(self) -> bool:
        return self.outcome is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CallState:
        values = dict(data)
        if values.get("outcome") is not None:
            values["outcome"] = Outcome(values["outcome"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class StatusEvent:
    call_sid: str
    status: str
    sequence: int
    answered_by: str | None = None
    duration: int | None = None


@dataclass(frozen=True, slots=True)
class KeyEvent:
    call_sid: str
    digit: str


@dataclass(frozen=True, slots=True)
class Note:
    kind: str  # timeline kind, e.g. call.ringing
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Settle:
    outcome: Outcome
    detail: str  # busy, no-answer, failed, canceled, machine, no-key, key-1, key-2, key-3


Effect = Note | Settle


def is_machine(answered_by: str | None) -> bool:
    return bool(answered_by) and (answered_by.startswith("machine") or answered_by == "fax")  # type: ignore[union-attr]


def final_outcome(status: str, answered_by: str | None, digit: str | None) -> tuple[Outcome, str]:
    """How a finished call ends for the escalation: only a human who pressed a deciding key is reached."""
    if status != "completed":
        return Outcome.NOT_REACHED, status
    if is_machine(answered_by):
        return Outcome.NOT_REACHED, "machine"
    if digit is not None:
        return Outcome.REACHED, f"key-{digit}"
    return Outcome.NOT_REACHED, "no-key"


def reduce(state: CallState, event: StatusEvent | KeyEvent) -> tuple[CallState, list[Effect]]:
    if isinstance(event, KeyEvent):
        if state.settled or event.digit not in DECIDING_KEYS:
            return state, []
        detail = f"key-{event.digit}"
        new = replace(state, sid=state.sid or event.call_sid, digit=event.digit, outcome=Outcome.REACHED)
        return replace(new, detail=detail), [Settle(Outcome.REACHED, detail)]
    if event.sequence <= state.last_seq or state.status in TERMINAL:
        return state, []  # duplicate, late, or after the end: Twilio promises no order
    new = replace(
        state,
        sid=state.sid or event.call_sid,
        status=event.status,
        last_seq=event.sequence,
        answered_by=event.answered_by or state.answered_by,
    )
    data: dict[str, Any] = {"call_sid": event.call_sid, "status": event.status}
    if new.answered_by:
        data["answered_by"] = new.answered_by
    if event.duration is not None:
        data["duration"] = event.duration
    kind = "call.answered" if event.status == "in-progress" else f"call.{event.status}"
    effects: list[Effect] = [Note(kind, data)]
    if event.status in TERMINAL and not state.settled:
        outcome, detail = final_outcome(event.status, new.answered_by, new.digit)
        new = replace(new, outcome=outcome, detail=detail)
        effects.append(Settle(outcome, detail))
    return new, effects


class CallStateStore(Protocol):
    """Where koban keeps each call's state (e.g. JSON on the delivery row: ``CallState.to_dict``)."""

    async def load(self, key: str) -> CallState | None: ...

    async def save(self, key: str, state: CallState, *, expected: CallState | None) -> bool:
        """Compare-and-set: store ``state`` only if the stored value still equals ``expected``."""
        ...


class MemoryCallStateStore:
    def __init__(self) -> None:
        self.states: dict[str, CallState] = {}

    async def load(self, key: str) -> CallState | None:
        return self.states.get(key)

    async def save(self, key: str, state: CallState, *, expected: CallState | None) -> bool:
        if self.states.get(key) != expected:
            return False
        self.states[key] = state
        return True
