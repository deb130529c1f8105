"""Evaluation side of the condition language: operands, the per-result context, comparison rules.

Comparison follows Gatus: numbers compare as numbers when both sides parse as numbers, otherwise as
strings; ``pat()`` is a case-sensitive glob; durations (``48h``, ``1h30m``, ``500ms``, ``7d``, in the
config's grammar: core/durations.py) become milliseconds so they compare with ``[RESPONSE_TIME]``
and ``[CERTIFICATE_EXPIRATION]``.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from koban.core.durations import parse_duration
from koban.probes.result import ProbeResult

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Placeholder:
    name: str
    path: tuple[str | int, ...] = ()

    def label(self) -> str:
        suffix = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path)
        return f"[{self.name}]{suffix}"


@dataclass(frozen=True, slots=True)
class Literal:
    value: str
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Func:
    name: str  # "len" or "has"
    arg: Operand


@dataclass(frozen=True, slots=True)
class Pattern:
    glob: str


@dataclass(frozen=True, slots=True)
class AnyOf:
    values: tuple[str, ...]


Operand = Placeholder | Literal | Func | Pattern | AnyOf


class Context:
    """What conditions can see of one result; the body is decoded and JSON-parsed at most once."""

    __slots__ = ("result", "now", "_text", "_json")

    def __init__(self, result: ProbeResult, now: datetime) -> None:
        self.result, self.now = result, now
        self._text: str | None = None
        self._json: Any = _MISSING

    def text(self) -> str:
        if self._text is None:
            self._text = self.result.body.decode("utf-8", errors="replace")
        return self._text

    def json(self) -> Any:
        if self._json is _MISSING:
            try:
                self._json = json.loads(self.text())
            except ValueError:
                self._json = None
        return self._json

    def lookup(self, ph: Placeholder) -> Any:
        r = self.result
        name = ph.name
        if name == "STATUS":
            return r.status_code
        if name == "RESPONSE_TIME":
            return round(r.duration * 1000, 3)
        if name == "CONNECTED":
            return r.connected
        if name == "IP":
            return r.ip
        if name == "DNS_RCODE":
            return r.dns_rcode
        if name == "CERTIFICATE_EXPIRATION":
            # Gatus reports 0 without a certificate, so "> 48h" fails rather than erroring.
            return 0 if r.cert is None else max(0.0, r.cert.seconds_left(self.now) * 1000)
        if name == "HEADER":
            return r.headers.get(str(ph.path[0]).lower(), _MISSING)
        if not ph.path:
            return self.text()
        node = self.json()
        if node is None:
            return _MISSING
        for key in ph.path:
            if isinstance(key, int) and isinstance(node, list) and -len(node) <= key < len(node):
                node = node[key]
            elif isinstance(node, dict) and str(key) in node:
                node = node[str(key)]
            else:
                return _MISSING
        return node


def show(value: Any) -> str:
    """The string a value compares as (and is shown as in failure messages): JSON spellings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            return parse_duration(value) * 1000.0  # the config's grammar: 1h30m loads and works
        except ValueError:
            return None
    return None


def _resolve(operand: Operand, ctx: Context, label: str) -> Any:
    if isinstance(operand, Literal):
        return operand.value
    if isinstance(operand, Placeholder):
        value = ctx.lookup(operand)
        if value is _MISSING:
            what = "header" if operand.name == "HEADER" else "path"
            raise LookupError(f"{what} {operand.label()} not found")
        return value
    if isinstance(operand, Func):
        if operand.name == "has":
            assert isinstance(operand.arg, Placeholder)
            return ctx.lookup(operand.arg) is not _MISSING
        inner = _resolve(operand.arg, ctx, label)
        return len(inner) if isinstance(inner, str | list | dict) else len(show(inner))
    raise TypeError(f"{label} cannot be evaluated")


def _equal(left: Any, right: str) -> bool:
    if isinstance(left, int | float) and not isinstance(left, bool):
        number = _number(right)
        if number is not None:
            return float(left) == number
    return show(left) == right


def compare(
    left: Operand, op: str, right: Operand, regex: re.Pattern[str] | None, ctx: Context
) -> tuple[bool, str]:
    """(passed, actual value shown) for one condition; LookupError/ValueError explain a non-evaluation."""
    lv = _resolve(left, ctx, "left side")
    actual = show(lv)
    if len(actual) > 80:
        actual = actual[:77] + "..."
    if op == "=~":
        assert regex is not None
        return regex.search(show(lv)) is not None, actual
    if isinstance(right, Pattern):
        hit = fnmatch.fnmatchcase(show(lv), right.glob)
        return hit == (op == "=="), actual
    if isinstance(right, AnyOf):
        hit = any(_equal(lv, v) for v in right.values)
        return hit == (op == "=="), actual
    rv = _resolve(right, ctx, "right side")
    if op in ("==", "!="):
        rs = rv if isinstance(rv, str) else show(rv)
        return _equal(lv, rs) == (op == "=="), actual
    a, b = _number(lv), _number(rv)
    if a is None or b is None:
        raise ValueError(f"cannot compare {actual!r} with {show(rv)!r} as numbers")
    ops = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}
    return ops[op], actual
