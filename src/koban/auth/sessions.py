"""Browser sessions: the rules (pure). The cookie holds an opaque random id; koban keeps its SHA-256.

- Idle expiry (default 12 h without a request) and absolute expiry (default 7 days after login),
  whichever comes first, as OWASP's session guidance advises.
- A new id at every login: an id planted before login (session fixation) never becomes a
  signed-in session.
- Every state-changing form post carries the session's CSRF token, compared in constant time.
- The cookie is ``HttpOnly``, ``SameSite=Lax``, ``Path=/`` and ``Secure`` when koban's public URL
  is https.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

COOKIE = "koban_session"
IDLE_SECONDS = 12 * 3600.0
ABSOLUTE_SECONDS = 7 * 86400.0
TOUCH_EVERY = 60.0  # last_seen_at is written at most this often per session


@dataclass(frozen=True, slots=True)
class SessionRow:
    person_id: str
    csrf: str
    created_at: float
    last_seen_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class Verdict:
    valid: bool
    touch: bool  # valid, and last_seen_at is old enough to be written again
    reason: str = ""


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def new_row(person_id: str, csrf: str, now: float, absolute: float = ABSOLUTE_SECONDS) -> SessionRow:
    return SessionRow(person_id, csrf, now, now, now + absolute)


def check(row: SessionRow | None, now: float, idle: float = IDLE_SECONDS) -> Verdict:
    if row is None:
        return Verdict(False, False, "no such session")
    if now >= row.expires_at:
        return Verdict(False, False, "session expired")
    if now - row.last_seen_at >= idle:
        return Verdict(False, False, "session idle too long")
    return Verdict(True, now - row.last_seen_at >= TOUCH_EVERY)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def cookie_header(session_id: str, public_url: str, max_age: float = ABSOLUTE_SECONDS) -> str:
    secure = "; Secure" if public_url.startswith("https://") else ""
    return f"{COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={int(max_age)}{secure}"


def clearing_cookie_header(public_url: str) -> str:
    return cookie_header("", public_url, max_age=0)
