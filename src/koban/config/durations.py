"""Durations as people write them: ``30s``, ``5m``, ``1h30m``, ``2d``, or a number of seconds."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a duration, like 30s, 5m or 1h")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("durations cannot be negative")
        return float(value)
    text = str(value).strip().replace(" ", "")
    if not text or _joined(text) != text:
        raise ValueError(f"{value!r} is not a duration; write e.g. 30s, 5m, 1h30m")
    return sum(float(n) * _UNIT[u] for n, u in _PART.findall(text))


def _joined(text: str) -> str:
    return "".join(m.group(0) for m in _PART.finditer(text))


Duration = Annotated[float, BeforeValidator(parse_duration)]
