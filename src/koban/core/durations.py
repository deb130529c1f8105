"""The one duration grammar: ``30s``, ``5m``, ``1h30m``, ``500ms``, ``2d``, ``1w``, or seconds.

Config fields (config/durations.py) and probe conditions (``[CERTIFICATE_EXPIRATION] > 1h30m``,
probes/condition_eval.py) both read durations through here, so what loads is what evaluates.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> float:
    """Seconds; ValueError for anything else."""
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


def parse_instant(value: str, now: float, example: str = "24h") -> float:
    """An instant as a person writes one in a query: ISO 8601, epoch seconds, or a duration meaning
    that long before ``now`` (``24h``). ValueError says what is accepted."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        pass
    try:
        return now - parse_duration(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a time: use ISO 8601, epoch seconds or e.g. {example}") from None
