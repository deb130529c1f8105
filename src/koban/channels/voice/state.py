"""The call-state reducer: Twilio status callbacks and key presses in, facts and one settlement out.

Twilio may deliver callbacks out of order or twice (protocols.md §1.6): an event whose
``SequenceNumber`` is not greater than the last applied one is ignored, and nothing after a terminal
status changes the call. A call settles exactly once: on the first deciding key (1/2/3: REACHED) or
on its terminal status (busy, no-answer, failed, canceled, machine, completed without a key:
NOT_REACHED). Pure: the handlers load the state, reduce, save (compare-and-set), then act on effects.

The key press (Twilio's ``<Gather>`` request) and the ``completed`` callback race when the person
presses 1 and hangs up at once: either may reach koban first. So a call that ends answered by a
person with no key yet is *held*: neither its ``call.completed`` note nor its settlement is
emitted until the key arrives (settled REACHED, then the held note) or ``KeyWaitOver`` says the
grace is over (the note, then NOT_REACHED). Both orders give the same effects in the same order,
hence the same delivery state and the same timeline.
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
    ended_at: float | None = None  # when a held call's completed callback came (see KeyWaitOver)
    duration: int | None = None

    @property
    def settled(self) -> bool:
        return self.outcome is not None

    @property
    def awaiting_key(self) -> bool:
        """Ended answered by a person, not settled: a key press may still be on its way."""
        return self.status == "completed" and not self.settled

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
    at: float | None = None  # when koban received it: starts a held call's grace


@dataclass(frozen=True, slots=True)
class KeyEvent:
    call_sid: str
    digit: str


@dataclass(frozen=True, slots=True)
class KeyWaitOver:
    """The grace for a late key press has passed: a held call settles as no key."""

    call_sid: str | None = None


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


def _status_note(state: CallState, status: str, duration: int | None) -> Note:
    data: dict[str, Any] = {"call_sid": state.sid, "status": status}
    if state.answered_by:
        data["answered_by"] = state.answered_by
    if duration is not None:
        data["duration"] = duration
    return Note("call.answered" if status == "in-progress" else f"call.{status}", data)


def _key(state: CallState, event: KeyEvent) -> tuple[CallState, list[Effect]]:
    if state.settled or event.digit not in DECIDING_KEYS:
        return state, []
    detail = f"key-{event.digit}"
    new = replace(state, sid=state.sid or event.call_sid, digit=event.digit, outcome=Outcome.REACHED)
    effects: list[Effect] = [Settle(Outcome.REACHED, detail)]
    if state.awaiting_key:  # the completed callback came first: its note follows, as in order
        effects.append(_status_note(new, "completed", state.duration))
    return replace(new, detail=detail), effects


def _wait_over(state: CallState) -> tuple[CallState, list[Effect]]:
    if not state.awaiting_key:
        return state, []
    outcome, detail = final_outcome(state.status, state.answered_by, state.digit)
    new = replace(state, outcome=outcome, detail=detail)
    return new, [_status_note(new, "completed", state.duration), Settle(outcome, detail)]


def reduce(state: CallState, event: StatusEvent | KeyEvent | KeyWaitOver) -> tuple[CallState, list[Effect]]:
    if isinstance(event, KeyEvent):
        return _key(state, event)
    if isinstance(event, KeyWaitOver):
        return _wait_over(state)
    if event.sequence <= state.last_seq or state.status in TERMINAL:
        return state, []  # duplicate, late, or after the end: Twilio promises no order
    new = replace(
        state,
        sid=state.sid or event.call_sid,
        status=event.status,
        last_seq=event.sequence,
        answered_by=event.answered_by or state.answered_by,
    )
    if new.awaiting_key and not is_machine(new.answered_by) and new.digit is None:
        # Held: the key press may still be in flight (see the module docstring).
        return replace(new, ended_at=event.at, duration=event.duration), []
    effects: list[Effect] = [_status_note(new, event.status, event.duration)]
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
