"""Log messages grouped into patterns: the parts that vary between occurrences are masked.

``mask("user 42 from 10.0.0.7 failed: 'abc'")`` -> ``"user <N> from <IP> failed: <Q>"``. The order
matters: UUIDs and IPs before plain numbers, or their digits would be masked piecemeal.
"""

from __future__ import annotations

import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\"[^\"]*\"|'[^']*'"), "<Q>"),
    (
        re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
        "<UUID>",
    ),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<IP>"),
    (re.compile(r"\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}\b"), "<IP>"),
    # Hex ids (commit hashes, trace ids, object ids): long runs that mix digits and letters.
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{12,}\b"), "<ID>"),
    # Prefixed ids such as order-123 or req_8f3k2 (a bare "v1" in a path is left alone).
    (re.compile(r"\b[A-Za-z]+[-_]\d[\w-]*\b"), "<ID>"),
    # Numbers, with a unit when they have one ("30s", "12ms", "99%").
    (re.compile(r"(?<![\w.<])-?\d+(?:\.\d+)?(?:ms|s|m|h|d|%|[kKMG]i?B)?(?!\w|\.\d)"), "<N>"),
)


def mask(message: str) -> str:
    out = message.strip()
    for pattern, token in _RULES:
        out = pattern.sub(token, out)
    return out
