"""Log rules with ElastAlert2's meanings: from what one query observed per key value to the alerts to
raise. Pure: ``now`` is passed in. The queries and each type's condition are in ``rule_queries.py``.

With a ``query_key`` (or per term, for ``new_term``) each value is judged on its own, one alert per
value (per combination of values for a compound ``query_key``); a value that stops appearing counts
as 0 events, so only values seen before can flatline, as in ElastAlert2. A firing key resolves after
``resolve_after`` clear runs in a row, so a flapping log does not page and un-page. The dedup key is
per rule and key value, so a rule that keeps matching adds to its open incident instead of opening
new ones. ``change`` remembers each key's last ``compare_key`` value from run to run, and when it
was last seen: with a ``timeframe``, a new value counts only if the one before was seen within it.
``new_term`` alerts per new term: a value of a watched field, or a combination of a composite
entry's values (``rule_queries.term_key``), labelled with the fields it names.

A rule whose type or key fields change (config apply) starts afresh: its ``shape`` differs from the
one its state was kept under, so its firing keys are resolved and its state forgotten (``restart``),
rather than judging keys of one meaning by the rules of another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from koban.config.model_logs import LogRule
from koban.domain.alerts import AlertAction, AlertEvent
from koban.logs.rule_queries import Observation, absent, term_labels


@dataclass(frozen=True, slots=True)
class KeyState:
    firing: bool = False
    clear_runs: int = 0
    last: str | None = None  # change: the compare_key value seen last
    last_at: float | None = None  # change: when it was last seen (epoch seconds)


def step(state: KeyState, hit: bool, resolve_after: int) -> tuple[KeyState, AlertAction | None]:
    if hit:
        return replace(state, firing=True, clear_runs=0), (None if state.firing else AlertAction.TRIGGER)
    if not state.firing:
        return state, None
    clear = state.clear_runs + 1
    if clear >= resolve_after:
        return replace(state, firing=False, clear_runs=0), AlertAction.RESOLVE
    return replace(state, clear_runs=clear), None


def labels_of(rule: LogRule, key: str) -> dict[str, str]:
    """The fields and values a key value stands for (the alert's labels)."""
    if not key:
        return {}
    if rule.type == "new_term":
        return term_labels(rule, key)
    return key_labels(rule.key_fields, key)


def shape_of(rule: LogRule) -> str:
    """What a rule's state means: its type and the fields its keys and values are of."""
    what = [rule.type, rule.key_fields, rule.fields, rule.compare_key]
    return hashlib.sha256(json.dumps(what).encode()).hexdigest()[:16]


def key_labels(fields: list[str], key: str) -> dict[str, str]:
    if not fields:
        return {}
    if len(fields) == 1:
        return {fields[0]: key}
    try:
        values = json.loads(key)
    except ValueError:
        return {}
    return {f: str(v) for f, v in zip(fields, values, strict=False)} if isinstance(values, list) else {}


def _dedup(rule_id: str, key: str) -> str:
    return f"log_rule:{rule_id}" + (f":{key}" if key else "")


def changed(rule: LogRule, state: KeyState, obs: Observation) -> tuple[KeyState, Observation]:
    """ElastAlert2's change: the value differs from the one seen before for the key (the first value
    ever seen is no change); several values in one run are a change among themselves. With a
    ``timeframe``, a value counts only if the one before it was seen at most ``timeframe`` before
    it first appeared (ElastAlert2 compares each document with the key's previous one; koban, from
    one aggregation, compares each value's first appearance with the previous value's last)."""
    if not obs.values:
        return state, obs
    spans = obs.spans or tuple((0.0, 0.0) for _ in obs.values)
    limit = rule.timeframe
    prev, prev_at = state.last, state.last_at
    hit = False
    for value, (first, last) in zip(obs.values, spans, strict=False):
        recent = limit is None or prev_at is None or first - prev_at <= float(limit)
        hit = hit or (prev is not None and value != prev and recent)
        prev, prev_at = value, (last or None)
    text = f"{rule.compare_key} changed from {state.last or obs.values[0]} to {obs.values[-1]}"
    kept = replace(state, last=obs.values[-1], last_at=prev_at)
    return kept, replace(obs, hit=hit, text=text if hit else obs.text)


def evaluate(
    rule: LogRule, states: Mapping[str, KeyState], seen: Mapping[str, Observation], now: datetime
) -> tuple[dict[str, KeyState], list[AlertEvent]]:
    """New state per key value and the events to raise (dedup key per rule and key value)."""
    remembered = rule.type in ("flatline", "change")
    keys = set(seen) | {k for k, s in states.items() if s.firing or remembered}
    if not rule.key_fields and rule.type != "new_term":
        keys = {""}
    new: dict[str, KeyState] = {}
    events: list[AlertEvent] = []
    for key in sorted(keys):
        obs = seen.get(key) or absent(rule)
        before = states.get(key, KeyState())
        if rule.type == "change":
            before, obs = changed(rule, before, obs)
        state, action = step(before, obs.hit, rule.resolve_after)
        new[key] = state
        if action is None:
            continue
        labels = {"log_rule": rule.id, "rule_type": rule.type} | labels_of(rule, key)
        where = ", ".join(f"{f}={v}" for f, v in labels_of(rule, key).items())
        events.append(
            AlertEvent(
                dedup_key=_dedup(rule.id, key),
                action=action,
                severity=rule.severity,
                summary=f"{rule.id}: {obs.text}" + (f" for {where}" if where else ""),
                source="koban.logs",
                details={"value": obs.value, "index": rule.index, "filter": rule.filter}
                | ({"examples": list(obs.examples)} if obs.examples else {}),
                labels=labels,
                occurred_at=now,
            )
        )
    return new, events


def restart(rule: LogRule, states: Mapping[str, KeyState], now: datetime) -> list[AlertEvent]:
    """The rule changed shape: resolve what its earlier form left firing (its state is dropped).
    The resolves are dated just before ``now``: a key clock's tie resolves, so a trigger of the same
    key at ``now`` from the rule's new form opens its own incident."""
    before = now - timedelta(microseconds=1)
    return [
        AlertEvent(
            dedup_key=_dedup(rule.id, key),
            action=AlertAction.RESOLVE,
            severity=rule.severity,
            summary=f"{rule.id}: the rule changed (now {rule.type}); its earlier alert is resolved",
            source="koban.logs",
            details={"index": rule.index},
            labels={"log_rule": rule.id, "rule_type": rule.type},
            occurred_at=before,
        )
        for key, s in sorted(states.items())
        if s.firing
    ]
