"""Channel secrets sealed at rest, opened on load, with key rotation."""

from __future__ import annotations

import pytest

from koban.core.sealing import PREFIX, Sealer, SealError

CHANNEL = {
    "id": "slack",
    "type": "slack",
    "bot_token": "xoxb-123",
    "signing_secrets": ["s1", "s2"],
    "channel": "#ops",
    "nested": {"password": "hunter22", "host": "smtp.example"},
}


def test_only_secret_settings_are_sealed_and_they_open_again() -> None:
    sealer = Sealer([b"key-one"])
    sealed = sealer.seal(CHANNEL)
    assert sealed["channel"] == "#ops" and sealed["nested"]["host"] == "smtp.example"
    assert sealed["bot_token"].startswith(PREFIX) and "xoxb" not in str(sealed)
    assert all(s.startswith(PREFIX) for s in sealed["signing_secrets"])
    assert sealer.open(sealed) == CHANNEL
    assert sealer.seal(sealed) == sealed  # sealing twice changes nothing


def test_plain_rows_from_before_sealing_still_open() -> None:
    assert Sealer([b"key-one"]).open(CHANNEL) == CHANNEL


def test_a_rotated_key_opens_old_values_and_a_wrong_key_says_what_to_do() -> None:
    old = Sealer([b"key-one"]).seal(CHANNEL)
    assert Sealer([b"key-two", b"key-one"]).open(old) == CHANNEL
    with pytest.raises(SealError, match="KOBAN_SECRET_KEY_PREVIOUS"):
        Sealer([b"key-two"]).open(old)
