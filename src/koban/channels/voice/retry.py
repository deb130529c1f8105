"""Per-outcome retry rules for calls that did not reach the person, as plain data.

``decide_retry`` answers whether to call the *same* person again and after how long; None means the
escalation moves on. The paging worker schedules the retry as a new attempt (a new delivery key).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryRule:
    max_retries: int  # extra calls to the same person after the first
    delay_seconds: float


# Busy: they may be on another call; try once more soon. Failed: a carrier hiccup, once.
# No answer, machine, no key, canceled: move on; the next step or loop calls again.
DEFAULT_RULES: Mapping[str, RetryRule] = {
    "busy": RetryRule(max_retries=1, delay_seconds=30),
    "failed": RetryRule(max_retries=1, delay_seconds=60),
    "no-answer": RetryRule(max_retries=0, delay_seconds=0),
    "machine": RetryRule(max_retries=0, delay_seconds=0),
    "no-key": RetryRule(max_retries=0, delay_seconds=0),
    "canceled": RetryRule(max_retries=0, delay_seconds=0),
}


def decide_retry(
    outcome_detail: str, attempts_so_far: int, rules: Mapping[str, RetryRule] = DEFAULT_RULES
) -> float | None:
    """Seconds until calling the same person again, or None. ``attempts_so_far`` counts the first call."""
    rule = rules.get(outcome_detail)
    if rule is None or attempts_so_far < 1 or attempts_so_far > rule.max_retries:
        return None
    return rule.delay_seconds


def parse_rules(data: Mapping[str, Mapping[str, float]]) -> dict[str, RetryRule]:
    """Rules from configuration: ``{"busy": {"max_retries": 1, "delay_seconds": 30}}``."""
    rules = dict(DEFAULT_RULES)
    for detail, spec in data.items():
        rule = RetryRule(int(spec.get("max_retries", 0)), float(spec.get("delay_seconds", 0)))
        if rule.max_retries < 0 or rule.delay_seconds < 0:
            raise ValueError(f"retry rule for {detail!r} must not be negative")
        rules[detail] = rule
    return rules


@dataclass(frozen=True, slots=True)
class RetryAttempt:
    key: str  # the new delivery's key: the first attempt's key + ":r<n>"
    attempt: int  # 2 for the first retry
    delay_seconds: float
    first_key: str


def retry_attempt(
    key: str, meta: Mapping[str, object], outcome_detail: str, rules: Mapping[str, RetryRule] = DEFAULT_RULES
) -> RetryAttempt | None:
    """The next call to the same person after ``outcome_detail``, or None (the escalation moves on).

    A retry is a new delivery with its own key, so it gets its own at-most-once guarantee."""
    attempt = int(meta.get("attempt", 1) or 1)  # type: ignore[call-overload]
    delay = decide_retry(outcome_detail, attempt, rules)
    if delay is None:
        return None
    first = str(meta.get("retry_of") or key)
    return RetryAttempt(f"{first}:r{attempt}", attempt + 1, delay, first)
