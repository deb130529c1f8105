"""Log rules with ElastAlert2's meanings: from what one query observed per key value to the alerts to
raise. Pure: ``now`` is passed in. The queries and each type's condition are in ``rule_queries.py``.

With a ``query_key`` (or per term, for ``new_term``) each value is judged on its own, one alert per
value; a value that stops appearing counts as 0 events, so only values seen before can flatline, as
in ElastAlert2. A firing key resolves after ``resolve_after`` clear runs in a row, so a flapping log
does not page and un-page. The dedup key is per rule and key value, so a rule that keeps matching
adds to its open incident instead of opening new ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from koban.config.model_logs import LogRule
from koban.domain.alerts import AlertAction, AlertEvent
from koban.logs.rule_queries import Observation, absent


@dataclass(frozen=True, slots=True)
class KeyState:
    firing: bool = False
    clear_runs: int = 0


def step(state: KeyState, hit: bool, resolve_after: int) -> tuple[KeyState, AlertAction | None]:
    if hit:
        return KeyState(firing=True), (None if state.firing else AlertAction.TRIGGER)
    if not state.firing:
        return state, None
    clear = state.clear_runs + 1
    if clear >= resolve_after:
        return KeyState(), AlertAction.RESOLVE
    return KeyState(firing=True, clear_runs=clear), None


def split_field(rule: LogRule) -> str | None:
    """The field whose values are judged one by one (the alert's label), if any."""
    return rule.fields[0] if rule.type == "new_term" else rule.query_key


def evaluate(
    rule: LogRule, states: Mapping[str, KeyState], seen: Mapping[str, Observation], now: datetime
) -> tuple[dict[str, KeyState], list[AlertEvent]]:
    """New state per key value and the events to raise (dedup key per rule and key value)."""
    field = split_field(rule)
    keys = set(seen) | {k for k, s in states.items() if s.firing or rule.type == "flatline"}
    if not field:
        keys = {""}
    new: dict[str, KeyState] = {}
    events: list[AlertEvent] = []
    for key in sorted(keys):
        obs = seen.get(key) or absent(rule)
        state, action = step(states.get(key, KeyState()), obs.hit, rule.resolve_after)
        new[key] = state
        if action is None:
            continue
        labels = {"log_rule": rule.id, "rule_type": rule.type}
        if field:
            labels[field] = key
        where = f" for {field}={key}" if field else ""
        events.append(
            AlertEvent(
                dedup_key=f"log_rule:{rule.id}" + (f":{key}" if field else ""),
                action=action,
                severity=rule.severity,
                summary=f"{rule.id}: {obs.text}{where}",
                source="koban.logs",
                details={"value": obs.value, "index": rule.index, "filter": rule.filter},
                labels=labels,
                occurred_at=now,
            )
        )
    return new, events
