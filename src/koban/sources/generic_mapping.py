"""User mappings for the generic JSON source: Jinja2 *expressions* run in the sandbox.

A mapping is compiled once (and cached by its content) into callables. Each expression sees:
``item`` (the alert object; also under ``alert``), ``body`` (the whole request JSON), ``headers``,
``query``, and every top-level key of ``item`` that is a valid name (``status``, ``host``...).
The sandbox refuses attribute access to internals (``__class__``...), so a mapping written by a
tenant cannot reach Python objects.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import ChainableUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment

from koban.sources.base import PayloadError

EXPRESSION_FIELDS = ("dedup_key", "severity", "summary", "source", "resolve", "acknowledge", "details")


class MappingConfigError(ValueError):
    """The mapping itself is broken (a settings problem, found when it is saved)."""


@dataclass(frozen=True, slots=True)
class CompiledMapping:
    items_path: tuple[str, ...]
    expressions: Mapping[str, Callable[..., Any]]
    labels: Mapping[str, Callable[..., Any]] | Callable[..., Any] | None

    def evaluate(self, name: str, context: Mapping[str, Any], where: str) -> Any:
        expr = self.expressions.get(name)
        return None if expr is None else run(expr, context, f"{where} ({name})")

    def evaluate_labels(self, context: Mapping[str, Any], where: str) -> dict[str, str] | None:
        if self.labels is None:
            return None
        if callable(self.labels):
            result = run(self.labels, context, f"{where} (labels)")
            if result is None:
                return {}
            if not isinstance(result, Mapping):
                raise PayloadError("labels expression must produce an object", f"{where}.labels")
            return {str(k): str(v) for k, v in result.items() if v is not None}
        out = {}
        for name, expr in self.labels.items():
            value = run(expr, context, f"{where} (labels.{name})")
            if value is not None and value != "":
                out[name] = str(value)
        return out


def run(expr: Callable[..., Any], context: Mapping[str, Any], where: str) -> Any:
    try:
        return expr(**context)
    except SecurityError as exc:
        raise PayloadError(f"mapping refused an unsafe operation in {where}: {exc}", where) from None
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise PayloadError(f"mapping failed in {where}: {exc}", where) from None


def compile_mapping(mapping: Mapping[str, Any]) -> CompiledMapping:
    """Compile (cached on the mapping's JSON, so a saved mapping is parsed once per process)."""
    return _compile_cached(json.dumps(mapping, sort_keys=True))


@functools.lru_cache(maxsize=256)
def _compile_cached(canonical: str) -> CompiledMapping:
    mapping = json.loads(canonical)
    env = _environment()
    unknown = set(mapping) - {*EXPRESSION_FIELDS, "labels", "items"}
    if unknown:
        raise MappingConfigError(f"unknown mapping keys: {', '.join(sorted(unknown))}")
    expressions = {k: _compile(env, k, mapping[k]) for k in EXPRESSION_FIELDS if mapping.get(k)}
    raw_labels = mapping.get("labels")
    labels: Any = None
    if isinstance(raw_labels, str):
        labels = _compile(env, "labels", raw_labels)
    elif isinstance(raw_labels, Mapping):
        labels = {str(k): _compile(env, f"labels.{k}", v) for k, v in raw_labels.items()}
    elif raw_labels is not None:
        raise MappingConfigError("labels must be an expression or an object of expressions")
    items = mapping.get("items") or ""
    if not isinstance(items, str):
        raise MappingConfigError("items must be a dotted path such as 'data.alerts'")
    return CompiledMapping(tuple(p for p in items.split(".") if p), expressions, labels)


def _environment() -> SandboxedEnvironment:
    # Immutable: a mapping may read the request, never change it (``alert.pop(...)`` is refused).
    env = ImmutableSandboxedEnvironment(autoescape=False, undefined=ChainableUndefined)
    env.filters["tojson"] = lambda v: json.dumps(v, sort_keys=True, default=str)
    return env


def _compile(env: SandboxedEnvironment, name: str, source: Any) -> Callable[..., Any]:
    if not isinstance(source, str):
        raise MappingConfigError(f"mapping.{name} must be a string expression")
    try:
        # undefined_to_none: a missing field reads as None, so ``a or b`` fallbacks work.
        return env.compile_expression(source, undefined_to_none=True)
    except TemplateError as exc:
        raise MappingConfigError(f"mapping.{name} is not a valid expression: {exc}") from None
