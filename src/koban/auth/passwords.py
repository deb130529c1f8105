"""Password hashing with Argon2id (argon2-cffi), the one place a password is ever handled.

``verify`` answers whether the password matches and whether the stored hash should be replaced
(its parameters are older than ``HASHER``'s), so the caller rehashes on a successful login, as
Django and pwdlib do. A login for an unknown user still spends one verification (``DUMMY``), so
the answer's timing does not tell which usernames exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# RFC 9106's second recommended option (64 MiB, 3 passes), with 2 lanes for this 2-core class of
# machine: ~50 ms a hash here, cheap for a login, dear for a guesser.
HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)
MIN_LENGTH = 12


@dataclass(frozen=True, slots=True)
class Checked:
    ok: bool
    rehash: bool  # ok, and the stored hash uses older parameters: store ``hash_password`` anew


def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    problem = weakness(password)
    if problem:
        raise ValueError(problem)
    return hasher.hash(password)


def weakness(password: str) -> str:
    """Why a new password is refused, or "" (length only, as NIST SP 800-63B advises)."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > 1024:
        return "a password has at most 1024 characters"
    return ""


def verify(stored: str | None, password: str, hasher: PasswordHasher = HASHER) -> Checked:
    """Constant work whatever ``stored`` is: None (no such user, no password) verifies ``DUMMY``."""
    try:
        hasher.verify(stored or _dummy(hasher), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return Checked(False, False)
    if stored is None:
        return Checked(False, False)
    return Checked(True, hasher.check_needs_rehash(stored))


_DUMMIES: dict[tuple[int, int, int], str] = {}


def _dummy(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMIES:
        _DUMMIES[key] = hasher.hash("not a password anyone has: equal work for unknown users")
    return _DUMMIES[key]
