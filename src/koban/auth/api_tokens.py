"""API tokens: the text a person copies once, and what koban keeps of it (pure).

``kbt_`` + 32 random base62 characters + a 6-character base62 CRC32 of them, as GitHub's tokens do:
the prefix lets secret scanners and people recognise a koban token, and the checksum refuses a
mistyped or truncated one without a database lookup. koban stores only the SHA-256 of the whole
text (a leaked table does not leak working tokens) and the first 12 characters, to tell tokens
apart in lists. The token's randomness is passed in, so tests pin it.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

PREFIX = "kbt_"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BODY = 32
_CHECK = 6
SHOWN = 12  # characters kept in clear: "kbt_" + 8


@dataclass(frozen=True, slots=True)
class IssuedToken:
    text: str  # shown once, never stored
    digest: str  # sha256 hex, the lookup key
    shown: str  # the first SHOWN characters, for lists


def _base62(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 62)
        out.append(_ALPHABET[r])
    return "".join(reversed(out))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECK)


def issue(random_bytes: bytes) -> IssuedToken:
    """A new token from at least 24 random bytes (``secrets.token_bytes(24)`` at the entry point)."""
    if len(random_bytes) < 24:
        raise ValueError("an API token needs at least 24 random bytes")
    body = _base62(int.from_bytes(random_bytes, "big"), _BODY)
    text = PREFIX + body + _checksum(body)
    return IssuedToken(text, digest(text), text[:SHOWN])


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def well_formed(text: str) -> bool:
    """Prefix, length, alphabet and checksum: false for anything no lookup could match."""
    if not text.startswith(PREFIX) or len(text) != len(PREFIX) + _BODY + _CHECK:
        return False
    body, check = text[len(PREFIX) : -_CHECK], text[-_CHECK:]
    return all(c in _ALPHABET for c in body) and _checksum(body) == check
