"""Argon2id: right and wrong passwords, rehash when the parameters change, unknown users cost the same."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from koban.auth.passwords import hash_password, verify, weakness

FAST = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)  # the tests' own parameters
STRONGER = PasswordHasher(time_cost=2, memory_cost=8 * 1024, parallelism=1)


def test_the_right_password_passes_and_a_wrong_one_does_not() -> None:
    stored = hash_password("correct horse battery", FAST)
    assert stored.startswith("$argon2id$")
    assert verify(stored, "correct horse battery", FAST).ok
    assert not verify(stored, "correct horse batterY", FAST).ok


def test_a_hash_with_older_parameters_asks_to_be_replaced_on_login() -> None:
    old = hash_password("correct horse battery", FAST)
    checked = verify(old, "correct horse battery", STRONGER)
    assert checked.ok and checked.rehash
    assert not verify(
        hash_password("correct horse battery", STRONGER), "correct horse battery", STRONGER
    ).rehash


def test_an_unknown_user_or_a_broken_hash_is_refused_not_an_error() -> None:
    assert verify(None, "anything at all", FAST).ok is False
    assert verify("not-a-hash", "anything at all", FAST).ok is False


@pytest.mark.parametrize(("password", "says"), [("short", "at least 12"), ("x" * 1025, "at most 1024")])
def test_a_weak_password_is_refused_with_the_reason(password: str, says: str) -> None:
    assert says in weakness(password)
    with pytest.raises(ValueError, match=says):
        hash_password(password, FAST)
