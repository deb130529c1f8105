"""Alertmanager label matchers: ``=``, ``!=``, ``=~``, ``!~``.

A missing label reads as the empty string (so ``team=""`` matches alerts without ``team``), and
regexes are anchored at both ends, exactly as in Alertmanager.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class MatchOp(enum.StrEnum):
    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: MatchOp
    value: str

    def __post_init__(self) -> None:
        if self.op in (MatchOp.RE, MatchOp.NRE):
            _regex(self.value)  # fail at construction, not at the first alert

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op is MatchOp.EQ:
            return actual == self.value
        if self.op is MatchOp.NE:
            return actual != self.value
        hit = _regex(self.value).fullmatch(actual) is not None
        return hit if self.op is MatchOp.RE else not hit

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op.value}"{escaped}"'


@functools.lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from None


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def format_matchers(matchers: Iterable[Matcher]) -> str:
    """``{a="b",c=~"d"}``: Alertmanager's route key form."""
    return "{" + ",".join(str(m) for m in matchers) + "}"


_ONE = re.compile(
    r"\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*"
    r'(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^,}"\s][^,}]*?))?\s*(?:,|$)'
)


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """Parse ``{severity="critical", team=~"db|web"}`` (braces and quotes optional)."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    out: list[Matcher] = []
    pos = 0
    while pos < len(body.rstrip()):
        m = _ONE.match(body, pos)
        if not m or m.end() == pos:
            raise ValueError(f"bad matcher at {body[pos : pos + 30]!r} in {text!r}")
        raw = m.group("quoted")
        value = _unescape(raw) if raw is not None else (m.group("bare") or "").strip()
        out.append(Matcher(m.group("name"), MatchOp(m.group("op")), value))
        pos = m.end()
    return tuple(out)


def parse_matcher(text: str) -> Matcher:
    parsed = parse_matchers(text)
    if len(parsed) != 1:
        raise ValueError(f"expected exactly one matcher in {text!r}")
    return parsed[0]


def from_legacy(
    match: Mapping[str, str] | None = None, match_re: Mapping[str, str] | None = None
) -> tuple[Matcher, ...]:
    """Alertmanager's deprecated ``match`` / ``match_re`` maps, still common in real configs."""
    eq = [Matcher(k, MatchOp.EQ, v) for k, v in (match or {}).items()]
    rx = [Matcher(k, MatchOp.RE, v) for k, v in (match_re or {}).items()]
    return tuple(sorted(eq + rx, key=lambda m: (m.name, m.op.value, m.value)))


def _unescape(raw: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), raw)
