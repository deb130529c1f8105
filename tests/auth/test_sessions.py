"""Session rules and login delays, as tables."""

from __future__ import annotations

import pytest

from koban.auth.login_throttle import CAP, FREE, Failures, after_failure, retry_after, wait_seconds
from koban.auth.sessions import (
    ABSOLUTE_SECONDS,
    IDLE_SECONDS,
    SessionRow,
    check,
    clearing_cookie_header,
    cookie_header,
    csrf_ok,
    new_row,
)

T = 1_800_000_000.0


@pytest.mark.parametrize(
    ("row", "now", "valid", "touch", "reason"),
    [
        (None, T, False, False, "no such session"),
        (new_row("alice", "c", T), T + 5, True, False, ""),
        (new_row("alice", "c", T), T + 61, True, True, ""),
        (new_row("alice", "c", T), T + IDLE_SECONDS, False, False, "session idle too long"),
        (
            SessionRow("alice", "c", T, T + ABSOLUTE_SECONDS - 1, T + ABSOLUTE_SECONDS),
            T + ABSOLUTE_SECONDS,
            False,
            False,
            "session expired",
        ),
    ],
)
def test_a_session_is_valid_until_idle_or_absolute_expiry(row, now, valid, touch, reason) -> None:
    v = check(row, now)
    assert (v.valid, v.touch, v.reason) == (valid, touch, reason)


def test_csrf_tokens_must_match_exactly() -> None:
    assert csrf_ok("abc123", "abc123")
    assert not csrf_ok("abc123", "abc124") and not csrf_ok("abc123", None) and not csrf_ok("abc123", "")


def test_cookie_attributes_follow_the_public_url() -> None:
    assert cookie_header("s1", "http://127.0.0.1:8080") == (
        "koban_session=s1; Path=/; HttpOnly; SameSite=Lax; Max-Age=604800"
    )
    assert cookie_header("s1", "https://koban.example").endswith("; Secure")
    assert "Max-Age=0" in clearing_cookie_header("https://koban.example")


def test_failures_grow_the_wait_up_to_a_cap_and_are_forgotten_after_a_day() -> None:
    f = Failures()
    for i in range(FREE):
        assert wait_seconds(f, T + i) == 0.0
        f = after_failure(f, T + i)
    assert wait_seconds(f, f.last_at) == 1.0
    f = after_failure(f, f.last_at + 1)
    assert wait_seconds(f, f.last_at) == 2.0
    many = Failures(FREE + 30, T)
    assert wait_seconds(many, T) == CAP
    assert wait_seconds(many, T + 86400) == 0.0 and after_failure(many, T + 86400) == Failures(1, T + 86400)


def test_the_longer_of_account_and_address_waits_applies() -> None:
    assert retry_after(Failures(FREE, T), Failures(FREE + 3, T), T) == 8.0
