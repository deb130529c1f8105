"""Channel secrets at rest: sealed with a key derived from ``KOBAN_SECRET_KEY`` (Fernet:
AES-128-CBC with HMAC-SHA256, from ``cryptography``), opened when the config is loaded.

A database copy then holds no working Slack token, Twilio auth token, SMTP password or webhook
secret. Only values under secret-looking names are sealed (``is_secret_setting``, the same rule the
API uses to show ``********``); each becomes ``"sealed:v1:<token>"``. A value without that prefix
is read as it is, so rows written before sealing keep working and are sealed at their next change.

Rotation: set the new key as ``KOBAN_SECRET_KEY`` and the old one in ``KOBAN_SECRET_KEY_PREVIOUS``;
values open with either and are sealed with the new one on their next write (``koban config
apply`` after the change re-seals everything).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "sealed:v1:"
# Setting names that hold credentials: auth_token(s), bot_token, signing_secret, password, api_key,
# and Slack incoming-webhook URLs (the URL itself is the credential).
_SECRET = re.compile(r"(token|secret|password|passwd|api_key|apikey|credential|private_key)", re.I)


def is_secret_setting(name: str, value: Any) -> bool:
    if _SECRET.search(name):
        return True
    return name in ("webhook_url", "incoming_webhook") and isinstance(value, str)


def _fernet(secret_key: bytes) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"koban-secrets-at-rest-v1")
    return Fernet(base64.urlsafe_b64encode(derived.derive(secret_key)))


class SealError(ValueError):
    pass


class Sealer:
    """``keys[0]`` seals; every key opens (rotation)."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a sealer needs at least one key")
        self._f = MultiFernet([_fernet(k) for k in keys])

    def seal(self, data: Any) -> Any:
        return self._walk(data, self._seal_value)

    def open(self, data: Any) -> Any:
        return self._walk(data, self._open_value)

    def _seal_value(self, value: Any) -> Any:
        if isinstance(value, str) and value and not value.startswith(PREFIX):
            return PREFIX + self._f.encrypt(value.encode()).decode()
        if isinstance(value, list):
            return [self._seal_value(v) for v in value]
        return value

    def _open_value(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(PREFIX):
            try:
                return self._f.decrypt(value[len(PREFIX) :].encode()).decode()
            except InvalidToken:
                raise SealError(
                    "a sealed secret opens with none of the keys: was KOBAN_SECRET_KEY changed "
                    "without KOBAN_SECRET_KEY_PREVIOUS?"
                ) from None
        if isinstance(value, list):
            return [self._open_value(v) for v in value]
        return value

    def _walk(self, data: Any, leaf: Any) -> Any:
        if isinstance(data, dict):
            return {k: leaf(v) if is_secret_setting(k, v) else self._walk(v, leaf) for k, v in data.items()}
        if isinstance(data, list):
            return [self._walk(x, leaf) for x in data]
        return data
