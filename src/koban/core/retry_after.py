"""``Retry-After`` in both forms HTTP allows (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date.

The date form is relative to the sender's clock, so it is measured against the same response's
``Date`` header when there is one (no clock skew between us and them), else against ``now``. Pure:
no clock is read here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from email.utils import parsedate_to_datetime


def _http_date(value: str) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.timestamp() if when.tzinfo is not None else None  # HTTP-dates are GMT


def parse_retry_after(
    value: str | None, *, date: str | None = None, now: float | None = None
) -> float | None:
    """Seconds to wait, or None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        when = _http_date(value)
        base = _http_date(date) if date else None
        base = now if base is None else base
        if when is None or base is None:
            return None
        return max(0.0, when - base)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header by case-insensitive name from a plain mapping."""
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def retry_after_of(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    return parse_retry_after(header(headers, "retry-after"), date=header(headers, "date"), now=now)
