"""Inhibition rules (Alertmanager): a firing source alert mutes matching target alerts.

A target is muted by a rule when some *other* firing alert matches ``source_matchers`` and has the
same value for every label in ``equal`` (a missing label equals an empty one). An alert that
matches both sides of a rule cannot be inhibited by an alert that also matches both sides,
otherwise two such alerts would mute each other and nobody would be paged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from koban.routing.matchers import Matcher, matches_all


@dataclass(frozen=True, slots=True)
class InhibitRule:
    source_matchers: tuple[Matcher, ...]
    target_matchers: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    """A firing alert that may act as an inhibition source."""

    fingerprint: str
    labels: Mapping[str, str]


def inhibited_by(
    rules: Iterable[InhibitRule],
    target_fingerprint: str,
    target_labels: Mapping[str, str],
    firing: Iterable[ActiveAlert],
) -> tuple[InhibitRule, ActiveAlert] | None:
    """The first (rule, source alert) that mutes the target, or None."""
    sources = list(firing)
    for rule in rules:
        if not matches_all(rule.target_matchers, target_labels):
            continue
        two_sided = matches_all(rule.source_matchers, target_labels)
        for source in sources:
            if source.fingerprint == target_fingerprint:
                continue
            if not matches_all(rule.source_matchers, source.labels):
                continue
            if two_sided and matches_all(rule.target_matchers, source.labels):
                continue
            if all(source.labels.get(n, "") == target_labels.get(n, "") for n in rule.equal):
                return rule, source
    return None


def reason(rule: InhibitRule, source: ActiveAlert) -> str:
    name = f" {rule.name!r}" if rule.name else ""
    what = source.labels.get("alertname") or source.fingerprint
    on = f" (same {', '.join(rule.equal)})" if rule.equal else ""
    return f"muted because inhibition rule{name}: alert {what} is firing{on}"
