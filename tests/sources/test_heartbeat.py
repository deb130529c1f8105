from __future__ import annotations

from datetime import UTC, datetime, timedelta

from koban.domain.alerts import AlertAction
from koban.sources.heartbeat import CheckState, CheckStatus, PingKind, evaluate, on_ping, pause

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def make_check(**kw) -> CheckState:
    return CheckState(check_id="backup", name="nightly backup", period=timedelta(days=1), grace=HOUR, **kw)


def up_check() -> CheckState:
    state, _, _ = on_ping(make_check(), PingKind.SUCCESS, T0)
    return state


def test_new_check_never_goes_down_until_its_first_ping():
    assert evaluate(make_check(), T0 + timedelta(days=30)) == (make_check(), None, None)


def test_first_ping_arms_the_check_without_paging():
    state, event, next_at = on_ping(make_check(), PingKind.SUCCESS, T0)
    assert (state.status, event, next_at) == (CheckStatus.UP, None, T0 + timedelta(days=1))


def test_late_ping_goes_to_grace_then_down_with_one_trigger():
    state = up_check()
    state, event, next_at = evaluate(state, T0 + timedelta(days=1))
    assert (state.status, event, next_at) == (CheckStatus.GRACE, None, T0 + timedelta(days=1) + HOUR)
    state, event, next_at = evaluate(state, T0 + timedelta(days=1) + HOUR)
    assert state.status is CheckStatus.DOWN and next_at is None
    assert (event.action, event.dedup_key) == (AlertAction.TRIGGER, "heartbeat:backup")
    assert evaluate(state, T0 + timedelta(days=5))[1] is None  # down stays down, no repeat


def test_ping_after_down_resolves():
    down, _, _ = evaluate(up_check(), T0 + timedelta(days=2))
    state, event, next_at = on_ping(down, PingKind.SUCCESS, T0 + timedelta(days=2, minutes=5))
    assert state.status is CheckStatus.UP and event.action is AlertAction.RESOLVE
    assert next_at == T0 + timedelta(days=3, minutes=5)


def test_start_without_finish_within_grace_goes_down():
    state, _, next_at = on_ping(up_check(), PingKind.START, T0 + timedelta(hours=2))
    assert next_at == T0 + timedelta(hours=3)
    state, event, _ = evaluate(state, T0 + timedelta(hours=3))
    assert state.status is CheckStatus.DOWN and "unfinished" in event.summary


def test_start_then_success_clears_the_run():
    state, _, _ = on_ping(up_check(), PingKind.START, T0 + timedelta(hours=2))
    state, event, next_at = on_ping(state, PingKind.SUCCESS, T0 + timedelta(hours=2, minutes=30))
    assert state.started_at is None and event is None
    assert next_at == T0 + timedelta(days=1, hours=2, minutes=30)


def test_fail_ping_pages_at_once_and_only_once():
    state, event, next_at = on_ping(up_check(), PingKind.FAIL, T0 + HOUR)
    assert state.status is CheckStatus.DOWN and event.action is AlertAction.TRIGGER and next_at is None
    assert on_ping(state, PingKind.FAIL, T0 + 2 * HOUR)[1] is None


def test_paused_check_is_silent_and_a_ping_resumes_it_unless_manual_resume():
    paused = pause(up_check())
    assert evaluate(paused, T0 + timedelta(days=9))[1] is None
    assert on_ping(paused, PingKind.SUCCESS, T0 + timedelta(days=9))[0].status is CheckStatus.UP
    manual = pause(make_check(manual_resume=True, status=CheckStatus.UP, last_ping_at=T0))
    assert on_ping(manual, PingKind.SUCCESS, T0 + timedelta(days=9))[0].status is CheckStatus.PAUSED


def test_log_ping_changes_nothing():
    state = up_check()
    assert on_ping(state, PingKind.LOG, T0 + HOUR)[0] == state
