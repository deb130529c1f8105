import pytest

from koban.channels.actions import Outcome
from koban.channels.voice.pacing import Bucket, release, reserve
from koban.channels.voice.retry import DEFAULT_RULES, RetryRule, decide_retry, parse_rules
from koban.channels.voice.state import (
    CallState,
    KeyEvent,
    KeyWaitOver,
    Note,
    Settle,
    StatusEvent,
    final_outcome,
    reduce,
)


def run(*events):
    state, effects = CallState(), []
    for event in events:
        state, new = reduce(state, event)
        effects.extend(new)
    return state, effects


def ev(status, seq, answered_by=None):
    return StatusEvent("CA1", status, seq, answered_by)


def test_callbacks_in_order_note_each_step_and_settle_no_key_as_not_reached_once_the_grace_is_over():
    held, effects = run(
        ev("initiated", 0), ev("ringing", 1), ev("in-progress", 2, "human"), ev("completed", 3)
    )
    assert held.awaiting_key and not any(isinstance(e, Settle) for e in effects)
    state, more = reduce(held, KeyWaitOver())
    effects += more
    kinds = [e.kind for e in effects if isinstance(e, Note)]
    assert kinds == ["call.initiated", "call.ringing", "call.answered", "call.completed"]
    assert [e for e in effects if isinstance(e, Settle)] == [Settle(Outcome.NOT_REACHED, "no-key")]
    assert state.sid == "CA1" and state.outcome is Outcome.NOT_REACHED


def test_a_late_ringing_after_answered_is_ignored():
    state, effects = run(ev("initiated", 0), ev("in-progress", 2, "human"), ev("ringing", 1))
    assert state.status == "in-progress" and state.last_seq == 2
    assert [e.kind for e in effects if isinstance(e, Note)] == ["call.initiated", "call.answered"]


def test_a_duplicate_callback_is_ignored():
    once, _ = run(ev("ringing", 1))
    twice, effects = reduce(once, ev("ringing", 1))
    assert twice == once and effects == []


def test_nothing_changes_a_call_after_its_terminal_status():
    state, effects = run(ev("busy", 2), ev("in-progress", 5, "human"), ev("completed", 6))
    assert state.status == "busy" and state.detail == "busy"
    assert sum(isinstance(e, Settle) for e in effects) == 1


def test_a_deciding_key_settles_reached_once_and_completed_does_not_settle_again():
    state, effects = run(
        ev("in-progress", 2, "human"), KeyEvent("CA1", "1"), KeyEvent("CA1", "3"), ev("completed", 3)
    )
    settles = [e for e in effects if isinstance(e, Settle)]
    assert settles == [Settle(Outcome.REACHED, "key-1")] and state.digit == "1"


def test_star_is_not_a_deciding_key():
    state, effects = reduce(CallState(), KeyEvent("CA1", "*"))
    assert effects == [] and not state.settled


@pytest.mark.parametrize(
    ("status", "answered_by", "digit", "expected"),
    [
        ("busy", None, None, (Outcome.NOT_REACHED, "busy")),
        ("no-answer", None, None, (Outcome.NOT_REACHED, "no-answer")),
        ("failed", None, None, (Outcome.NOT_REACHED, "failed")),
        ("canceled", None, None, (Outcome.NOT_REACHED, "canceled")),
        ("completed", "machine_start", None, (Outcome.NOT_REACHED, "machine")),
        ("completed", "fax", None, (Outcome.NOT_REACHED, "machine")),
        ("completed", "human", None, (Outcome.NOT_REACHED, "no-key")),
        ("completed", "human", "2", (Outcome.REACHED, "key-2")),
        ("completed", None, "1", (Outcome.REACHED, "key-1")),
    ],
)
def test_final_status_maps_to_an_outcome(status, answered_by, digit, expected):
    assert final_outcome(status, answered_by, digit) == expected


def test_call_state_round_trips_through_a_dict_for_storage():
    state, _ = run(ev("in-progress", 2, "human"), KeyEvent("CA1", "1"))
    assert CallState.from_dict(state.to_dict()) == state


@pytest.mark.parametrize(
    ("detail", "attempts", "expected"),
    [
        ("busy", 1, 30),  # first call was busy: try the same person once more after 30 s
        ("busy", 2, None),  # the retry was busy too: move on
        ("no-answer", 1, None),
        ("machine", 1, None),
        ("failed", 1, 60),
        ("key-1", 1, None),
        ("unknown-detail", 1, None),
    ],
)
def test_retry_rules_decide_whether_to_call_the_same_person_again(detail, attempts, expected):
    assert decide_retry(detail, attempts, DEFAULT_RULES) == expected


def test_retry_rules_can_be_configured_as_data():
    rules = parse_rules({"no-answer": {"max_retries": 2, "delay_seconds": 10}})
    assert rules["no-answer"] == RetryRule(2, 10)
    assert [decide_retry("no-answer", n, rules) for n in (1, 2, 3)] == [10, 10, None]
    with pytest.raises(ValueError):
        parse_rules({"busy": {"max_retries": -1}})


def test_pacing_lets_one_call_per_second_through_and_queues_the_rest_in_order():
    bucket = Bucket(rate=1.0)
    bucket, first = reserve(bucket, now=100.0)
    bucket, second = reserve(bucket, now=100.0)
    bucket, third = reserve(bucket, now=100.5)
    assert (first, second, third) == (0.0, 1.0, 1.5)
    bucket, later = reserve(Bucket(rate=2.0), now=0.0)
    assert later == 0.0


def test_pacing_refills_after_idle_time_but_not_beyond_the_burst():
    bucket, _ = reserve(Bucket(rate=1.0, burst=2.0, tokens=2.0), now=0.0)
    bucket, _ = reserve(bucket, now=0.0)
    bucket, wait = reserve(bucket, now=60.0)
    assert wait == 0.0 and bucket.tokens == 1.0


def test_a_released_reservation_gives_the_slot_back():
    bucket, _ = reserve(Bucket(rate=1.0), now=0.0)
    bucket, wait = reserve(bucket, now=0.0)
    assert wait == 1.0
    bucket, wait = reserve(release(bucket), now=0.0)
    assert wait == 1.0
