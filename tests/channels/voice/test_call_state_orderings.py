"""Issue 17 item 14: Twilio's callbacks in any order end in the same call state and the same effects.

The key press (the ``<Gather>`` request) and the ``completed`` callback race when the person presses
and hangs up at once. Whatever order they (and duplicates of the status callbacks) arrive in, the
reducer must give what the in-order sequence gives: the same settlement, and the same notes in the
same order, so the delivery and the incident's timeline are the same.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from koban.channels.actions import Outcome
from koban.channels.voice.state import CallState, KeyEvent, KeyWaitOver, Note, Settle, StatusEvent, reduce

STATUSES = [
    StatusEvent("CA1", "initiated", 0),
    StatusEvent("CA1", "ringing", 1),
    StatusEvent("CA1", "in-progress", 2, "human"),
    StatusEvent("CA1", "completed", 3, duration=14, at=100.0),
]


def run(events):
    state, effects = CallState(), []
    for event in events:
        state, new = reduce(state, event)
        effects.extend(new)
    return state, effects


def in_order(digit):
    keys = [KeyEvent("CA1", digit)] if digit is not None else []
    return [*STATUSES[:3], *keys, STATUSES[3], KeyWaitOver()]


@st.composite
def arrivals(draw):
    """The key press anywhere after the answer (also after completed), duplicates of status callbacks
    anywhere after their first copy, and the grace ending last (the sweeper fires after the wait)."""
    digit = draw(st.sampled_from(["1", "2", "3", None]))
    events: list = list(STATUSES)
    if digit is not None:
        events.insert(draw(st.integers(3, len(events))), KeyEvent("CA1", digit))
    for _ in range(draw(st.integers(0, 3))):
        original = draw(st.sampled_from(STATUSES))
        first = events.index(original)
        events.insert(draw(st.integers(first + 1, len(events))), original)
    return digit, [*events, KeyWaitOver()]


@given(arrivals())
def test_any_order_of_key_press_and_callbacks_ends_as_in_order(case):
    digit, events = case
    expected_state, expected_effects = run(in_order(digit))
    state, effects = run(events)
    assert (state.outcome, state.detail, state.status) == (
        expected_state.outcome,
        expected_state.detail,
        expected_state.status,
    )
    assert effects == expected_effects
    assert sum(isinstance(e, Settle) for e in effects) == 1


def test_completed_before_the_key_press_settles_reached_and_notes_completed_after_it():
    state, effects = run([*STATUSES, KeyEvent("CA1", "1")])
    assert state.outcome is Outcome.REACHED and state.detail == "key-1"
    assert effects[-2:] == [
        Settle(Outcome.REACHED, "key-1"),
        Note(
            "call.completed",
            {"call_sid": "CA1", "status": "completed", "answered_by": "human", "duration": 14},
        ),
    ]


def test_a_held_call_settles_no_key_only_when_its_wait_is_over():
    held, effects = run(STATUSES)
    assert held.awaiting_key and held.ended_at == 100.0
    assert [e.kind for e in effects if isinstance(e, Note)] == [
        "call.initiated",
        "call.ringing",
        "call.answered",
    ]
    state, more = reduce(held, KeyWaitOver())
    assert state.outcome is Outcome.NOT_REACHED and state.detail == "no-key"
    assert [type(e) for e in more] == [Note, Settle]
    assert reduce(state, KeyEvent("CA1", "1")) == (state, [])  # too late: nothing changes


def test_a_machine_or_unanswered_call_is_not_held():
    machine, _ = run([StatusEvent("CA1", "completed", 3, "machine_start")])
    busy, _ = run([StatusEvent("CA1", "busy", 3)])
    assert machine.detail == "machine" and busy.detail == "busy"
    assert not machine.awaiting_key and not busy.awaiting_key
