"""Log rules with ElastAlert2's meanings, decided from one count query. Pure: ``now`` is passed in.

- ``frequency``: at least ``num_events`` matches in the last ``timeframe``;
- ``flatline``: fewer than ``threshold`` matches in the last ``timeframe``;
- ``any``: at least one match since the previous run (the last ``interval``).

With a ``query_key`` each value is judged on its own (one alert per value); for ``flatline`` a value
that stops appearing counts as 0, so only values seen before can flatline, as in ElastAlert2.
A firing key resolves after ``resolve_after`` clear runs in a row, so a flapping log does not page
and un-page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from koban.config.model_logs import LogRule
from koban.domain.alerts import AlertAction, AlertEvent


@dataclass(frozen=True, slots=True)
class KeyState:
    firing: bool = False
    clear_runs: int = 0


def lookback(rule: LogRule) -> timedelta:
    return timedelta(seconds=float(rule.interval if rule.type == "any" else rule.timeframe))


def counts_of(answer: Mapping[str, Any], query_key: str | None) -> dict[str, int]:
    if query_key:
        buckets = answer.get("aggregations", {}).get("keys", {}).get("buckets", [])
        return {str(b["key"]): int(b["doc_count"]) for b in buckets}
    total = answer.get("hits", {}).get("total", 0)
    return {"": int(total["value"] if isinstance(total, Mapping) else total)}


def breached(rule: LogRule, count: int) -> bool:
    if rule.type == "frequency":
        return count >= rule.num_events
    if rule.type == "flatline":
        return count < rule.threshold
    return count >= 1  # any


def step(state: KeyState, hit: bool, resolve_after: int) -> tuple[KeyState, AlertAction | None]:
    if hit:
        return KeyState(firing=True), (None if state.firing else AlertAction.TRIGGER)
    if not state.firing:
        return state, None
    clear = state.clear_runs + 1
    if clear >= resolve_after:
        return KeyState(), AlertAction.RESOLVE
    return KeyState(firing=True, clear_runs=clear), None


def _summary(rule: LogRule, key: str, count: int) -> str:
    where = f" for {rule.query_key}={key}" if rule.query_key else ""
    tf = int(lookback(rule).total_seconds())
    if rule.type == "frequency":
        return f"{rule.id}: {count} log entries in {tf}s{where} (at least {rule.num_events})"
    if rule.type == "flatline":
        return f"{rule.id}: only {count} log entries in {tf}s{where} (fewer than {rule.threshold})"
    return f"{rule.id}: {count} matching log entries in {tf}s{where}"


def evaluate(
    rule: LogRule, states: Mapping[str, KeyState], counts: Mapping[str, int], now: datetime
) -> tuple[dict[str, KeyState], list[AlertEvent]]:
    """New state per key value and the events to raise (dedup key per rule and key value)."""
    keys = set(counts) | {k for k, s in states.items() if s.firing or rule.type == "flatline"}
    if not rule.query_key:
        keys = {""}
    new: dict[str, KeyState] = {}
    events: list[AlertEvent] = []
    for key in sorted(keys):
        count = counts.get(key, 0)
        state, action = step(states.get(key, KeyState()), breached(rule, count), rule.resolve_after)
        new[key] = state
        if action is None:
            continue
        labels = {"log_rule": rule.id, "rule_type": rule.type}
        if rule.query_key:
            labels[rule.query_key] = key
        events.append(
            AlertEvent(
                dedup_key=f"log_rule:{rule.id}" + (f":{key}" if rule.query_key else ""),
                action=action,
                severity=rule.severity,
                summary=_summary(rule, key, count),
                source="koban.logs",
                details={"count": count, "index": rule.index, "filter": rule.filter},
                labels=labels,
                occurred_at=now,
            )
        )
    return new, events
