"""Time to wake: how long from the first failed observation to a person on it. Pure.

Four moments of one incident, each with its time and its distance from the first:

- ``first_failure``: the first failed observation: the first failed probe (the ``probe.failed``
  timeline entry, stamped with that probe's time), else the earliest ``startsAt`` (``occurred_at``)
  of the alerts that triggered it, else the incident's creation. Never after the creation: a
  sender's clock ahead of ours must not make the wait look shorter;
- ``first_page``: the first page a channel accepted (``sent_at`` of a ``page`` delivery);
- ``first_reached``: the first sign a person is on it: a call answered by a human, a key pressed,
  or any action a person took (acknowledge, resolve, escalate, reassign: Slack clicks, SMS
  replies, links and the API land there);
- ``acknowledged``: the first acknowledgement.

This is the number koban exists to make small; every incident shows its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Timeline entries that mean a person acted (when they name an actor: sources resolve as nobody).
PERSON_ACTIONS = frozenset({"acknowledged", "resolved", "escalated", "reassigned", "key.pressed"})
MACHINES = ("machine", "fax")  # Twilio's AnsweredBy values for a machine start with these


@dataclass(frozen=True, slots=True)
class Moment:
    at: float
    after: float  # seconds since the first failure
    how: str  # what marked it: probe, alert, incident, a channel, a timeline kind
    who: str | None = None


@dataclass(frozen=True, slots=True)
class TimeToWake:
    first_failure: Moment
    first_page: Moment | None
    first_reached: Moment | None
    acknowledged: Moment | None


def time_to_wake(
    created_at: float,
    timeline: Sequence[Mapping[str, Any]],
    alerts: Sequence[Mapping[str, Any]],
    deliveries: Sequence[Mapping[str, Any]],
) -> TimeToWake:
    """``timeline``: at, kind, actor, via, data; ``alerts``: action, event (its JSON, with
    ``occurred_at`` in epoch seconds); ``deliveries``: kind, channel_id, person_id, sent_at."""
    start, how = _first_failure(created_at, timeline, alerts)

    def moment(at: float | None, what: str, who: str | None = None) -> Moment | None:
        return None if at is None else Moment(at, max(0.0, at - start), what, who)

    pages = [d for d in deliveries if d.get("kind") == "page" and d.get("sent_at") is not None]
    page = min(pages, key=lambda d: float(d["sent_at"]), default=None)
    reached = _earliest(e for e in timeline if _reached(e))
    acked = _earliest(e for e in timeline if e.get("kind") == "acknowledged")
    return TimeToWake(
        first_failure=Moment(start, 0.0, how),
        first_page=None
        if page is None
        else moment(float(page["sent_at"]), str(page.get("channel_id") or ""), page.get("person_id")),
        first_reached=None
        if reached is None
        else moment(float(reached["at"]), str(reached["kind"]), reached.get("actor")),
        acknowledged=None
        if acked is None
        else moment(float(acked["at"]), str(acked.get("via") or ""), acked.get("actor")),
    )


def _first_failure(
    created_at: float, timeline: Sequence[Mapping[str, Any]], alerts: Sequence[Mapping[str, Any]]
) -> tuple[float, str]:
    probe = _earliest(e for e in timeline if e.get("kind") == "probe.failed")
    if probe is not None:
        return min(float(probe["at"]), created_at), "probe"
    starts = [
        float(a["event"]["occurred_at"])
        for a in alerts
        if a.get("action") == "trigger" and (a.get("event") or {}).get("occurred_at") is not None
    ]
    if starts:
        return min(min(starts), created_at), "alert"
    return created_at, "incident"


def _reached(e: Mapping[str, Any]) -> bool:
    kind = e.get("kind")
    if kind == "call.answered":
        by = str((e.get("data") or {}).get("answered_by") or "human")
        return not by.startswith(MACHINES)
    return kind in PERSON_ACTIONS and e.get("actor") is not None


def _earliest(entries: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    return min(entries, key=lambda e: float(e["at"]), default=None)


def as_json(w: TimeToWake, iso: Callable[[float], str | None]) -> dict[str, Any]:
    """The API's shape: each moment as ``{at, after_seconds, how, who}`` (``iso`` formats a time)."""

    def one(m: Moment | None) -> dict[str, Any] | None:
        if m is None:
            return None
        return {"at": iso(m.at), "after_seconds": round(m.after, 3), "how": m.how, "who": m.who}

    return {
        "first_failure": one(w.first_failure),
        "first_page": one(w.first_page),
        "first_reached": one(w.first_reached),
        "acknowledged": one(w.acknowledged),
    }
