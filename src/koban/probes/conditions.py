"""A small Gatus-like condition language, parsed once into evaluators.

    [STATUS] == 200                      [RESPONSE_TIME] < 300          (milliseconds)
    [BODY] == pat(*ok*)                  [BODY].data.status == UP       (JSON path, [BODY].items[0].id)
    [HEADER].content-type == pat(*json*) [CERTIFICATE_EXPIRATION] > 48h (leaf certificate)
    [CONNECTED] == true                  len([BODY]) > 0     has([BODY].x) == true
    [BODY] =~ "status: (ok|green)"       [STATUS] == any(200, 204)      [DNS_RCODE] == NOERROR

Operators: ``== != < <= > >= =~`` (regex search). A bare right-hand value runs to the end of the line
(as in Gatus); quote it to be explicit. Every condition is kept with its own result so a failure message
says which condition failed and what the actual value was. Parse errors name the column and what was
expected there, because these strings are typed by people into a config file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from koban.probes.condition_eval import (
    AnyOf,
    Context,
    Func,
    Literal,
    Operand,
    Pattern,
    Placeholder,
    compare,
    show,
)
from koban.probes.result import ConditionResult, ProbeResult

PLACEHOLDERS = frozenset(
    {"STATUS", "RESPONSE_TIME", "BODY", "HEADER", "CONNECTED", "CERTIFICATE_EXPIRATION", "IP", "DNS_RCODE"}
)
OPERATORS = ("==", "!=", "<=", ">=", "=~", "<", ">")  # two-character ones first
_EXPECTED_OP = "an operator (==, !=, <, <=, >, >=, =~)"
_EXPECTED_OPERAND = "a placeholder like [STATUS], a function (len, has, pat, any) or a value"
_BARE_STOP = frozenset(" \t(),")


class ConditionSyntaxError(ValueError):
    def __init__(self, text: str, pos: int, expected: str) -> None:
        found = text[pos : pos + 20]
        found_msg = f'found "{found}"' if found else "found the end of the condition"
        super().__init__(f'condition "{text}", column {pos + 1}: expected {expected}, {found_msg}')
        self.text, self.pos, self.expected = text, pos, expected


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def fail(self, expected: str, pos: int | None = None) -> ConditionSyntaxError:
        return ConditionSyntaxError(self.text, self.pos if pos is None else pos, expected)

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def eat(self, token: str) -> bool:
        self.skip()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def operator(self) -> str:
        self.skip()
        for op in OPERATORS:
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return op
        raise self.fail(_EXPECTED_OP)

    def operand(self, rest_of_line: bool = False) -> Operand:
        self.skip()
        text, start = self.text, self.pos
        if text.startswith("[", start):
            return self.placeholder()
        match = re.compile(r"(len|has|pat|any)\s*\(").match(text, start)
        if match:
            self.pos = match.end()
            return self.function(match.group(1))
        if start < len(text) and text[start] in "\"'":
            return Literal(self.quoted(), quoted=True)
        if rest_of_line:
            value = text[start:].strip()
            self.pos = len(text)
        else:
            end = start
            while end < len(text) and text[end] not in _BARE_STOP:
                end += 1
            value, self.pos = text[start:end], end
        if not value:
            raise self.fail(_EXPECTED_OPERAND, start)
        return Literal(value)

    def placeholder(self) -> Placeholder:
        start = self.pos
        end = self.text.find("]", start)
        name = self.text[start + 1 : end] if end > 0 else ""
        if name not in PLACEHOLDERS:
            known = ", ".join(f"[{p}]" for p in sorted(PLACEHOLDERS))
            raise self.fail(f"one of {known}", start)
        self.pos = end + 1
        path: list[str | int] = []
        while self.pos < len(self.text):
            if self.text[self.pos] == ".":
                key_start = self.pos = self.pos + 1
                while self.pos < len(self.text) and self.text[self.pos] not in " \t.[](),":
                    self.pos += 1
                if self.pos == key_start:
                    raise self.fail("a field name after '.'")
                path.append(self.text[key_start : self.pos])
            elif self.text[self.pos] == "[":
                match = re.compile(r"\[(\d+)\]").match(self.text, self.pos)
                if not match:
                    raise self.fail("an array index like [0]")
                path.append(int(match.group(1)))
                self.pos = match.end()
            else:
                break
        if name == "HEADER" and (len(path) != 1 or not isinstance(path[0], str)):
            raise self.fail("a header name, as in [HEADER].content-type", self.pos)
        if path and name not in ("BODY", "HEADER"):
            raise self.fail(f"no path after [{name}] (only [BODY] and [HEADER] take one)", start)
        return Placeholder(name, tuple(path))

    def function(self, name: str) -> Operand:
        if name == "pat":
            end = self.text.find(")", self.pos)
            if end < 0:
                raise self.fail("')' closing pat(")
            glob = self.text[self.pos : end].strip().strip("\"'")
            self.pos = end + 1
            return Pattern(glob)
        if name == "any":
            values = [self.operand()]
            while self.eat(","):
                values.append(self.operand())
            if not self.eat(")"):
                raise self.fail("',' or ')' in any(...)")
            return AnyOf(tuple(show(v.value) for v in values if isinstance(v, Literal)))
        inner = self.operand()
        if not self.eat(")"):
            raise self.fail(f"')' closing {name}(")
        if name == "has" and not (isinstance(inner, Placeholder) and inner.name == "BODY"):
            raise self.fail("has() takes a [BODY] path, as in has([BODY].data)")
        return Func(name, inner)

    def quoted(self) -> str:
        quote = self.text[self.pos]
        out, i = [], self.pos + 1
        while i < len(self.text):
            ch = self.text[i]
            if ch == "\\" and i + 1 < len(self.text):
                out.append(self.text[i + 1])
                i += 2
                continue
            if ch == quote:
                self.pos = i + 1
                return "".join(out)
            out.append(ch)
            i += 1
        raise self.fail(f"closing {quote}", len(self.text))


@dataclass(frozen=True, slots=True)
class Condition:
    text: str
    left: Operand
    op: str
    right: Operand
    regex: re.Pattern[str] | None = None

    @classmethod
    def parse(cls, text: str) -> Condition:
        text = text.strip()
        p = _Parser(text)
        left = p.operand()
        p.skip()
        op_pos = p.pos
        op = p.operator()
        p.skip()
        right_pos = p.pos
        right = p.operand(rest_of_line=True)
        p.skip()
        if p.pos != len(text):
            raise p.fail("the end of the condition")
        if isinstance(left, Pattern | AnyOf):
            raise p.fail("pat() and any() on the right-hand side", 0)
        if isinstance(right, Pattern | AnyOf) and op not in ("==", "!="):
            raise p.fail("== or != with pat() / any()", op_pos)
        regex = None
        if op == "=~":
            if not isinstance(right, Literal):
                raise p.fail('a regular expression, as in [BODY] =~ "ok|green"', right_pos)
            try:
                regex = re.compile(right.value)
            except re.error as exc:
                raise p.fail(f"a valid regular expression ({exc})", right_pos) from None
        return cls(text, left, op, right, regex)

    def evaluate(self, ctx: Context) -> ConditionResult:
        try:
            ok, actual = compare(self.left, self.op, self.right, self.regex, ctx)
        except LookupError as exc:
            return ConditionResult(self.text, False, error=str(exc.args[0]))
        except (TypeError, ValueError) as exc:
            return ConditionResult(self.text, False, error=str(exc))
        return ConditionResult(self.text, ok, actual=actual)


class Conditions:
    """All must pass. Parse at config load (fail fast), evaluate per probe result."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[Condition]) -> None:
        self.items = tuple(items)

    @classmethod
    def parse(cls, texts: Iterable[str]) -> Conditions:
        return cls(Condition.parse(t) for t in texts)

    def evaluate(self, result: ProbeResult, now: datetime) -> tuple[ConditionResult, ...]:
        ctx = Context(result, now)
        return tuple(c.evaluate(ctx) for c in self.items)

    def __len__(self) -> int:
        return len(self.items)


def failure_message(results: Iterable[ConditionResult]) -> str:
    return "; ".join(r.describe() for r in results if not r.success)


def apply_conditions(result: ProbeResult, conditions: Conditions) -> ProbeResult:
    """Attach per-condition results; success needs the probe itself to have worked and all to pass.

    ``now`` for time-relative placeholders is the probe's own start time, so re-evaluating a stored
    result later gives the same answer.
    """
    results = conditions.evaluate(result, result.started_at)
    if result.error:
        return replace(result, success=False, conditions=results)
    message = failure_message(results)
    error = f"condition failed: {message}" if message else ""
    return replace(result, success=not message, error=error, conditions=results)
