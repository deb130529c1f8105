"""API token text: recognisable, self-checking, stored only as a digest."""

from __future__ import annotations

import hashlib

import pytest

from koban.auth.api_tokens import PREFIX, SHOWN, digest, issue, well_formed


def test_a_token_is_prefixed_checksummed_and_kept_only_as_its_digest() -> None:
    token = issue(bytes(range(24)))
    assert token.text.startswith(PREFIX) and len(token.text) == 42
    assert well_formed(token.text)
    assert token.digest == hashlib.sha256(token.text.encode()).hexdigest() == digest(token.text)
    assert token.shown == token.text[:SHOWN] and token.digest not in token.text


def test_the_same_randomness_gives_the_same_token_and_other_randomness_another() -> None:
    assert issue(b"\x01" * 24) == issue(b"\x01" * 24)
    assert issue(b"\x01" * 24).text != issue(b"\x02" * 24).text


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1],  # truncated
        lambda t: t[:10] + ("A" if t[10] != "A" else "B") + t[11:],  # one character mistyped
        lambda t: "ghp_" + t[4:],  # another vendor's prefix
        lambda t: t[:-6] + "******",  # redacted
        lambda t: t.lower(),
    ],
)
def test_a_mangled_token_is_refused_before_any_lookup(mangle) -> None:
    assert not well_formed(mangle(issue(b"\x07" * 24).text))


def test_too_little_randomness_is_refused() -> None:
    with pytest.raises(ValueError, match="24 random bytes"):
        issue(b"\x00" * 16)
