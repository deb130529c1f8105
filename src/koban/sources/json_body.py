"""A request body to JSON, the same way at the edge and in the inbox drain."""

from __future__ import annotations

from typing import Any

import orjson

from koban.sources.base import PayloadError


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise PayloadError("the body is empty; send a JSON document", status=400)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"the body is not valid JSON: {exc}", status=400) from None
    # PostgreSQL cannot store NUL in text; it carries no meaning in an alert, so it goes here.
    return _without_nul(data) if b"\\u0000" in body else data


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {k.replace("\x00", ""): _without_nul(v) for k, v in value.items()}
    return value
