"""Each report as one flat table, for CSV. Pure.

Nested figures become dotted columns (``time_to_acknowledge.p50``); a report's main list (groups,
people, monitors and services, incidents) gives the rows, with the totals as a first ``(total)`` row
where the report has them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any


def flat(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flat(v, f"{name}."))
        elif isinstance(v, list | tuple):
            if all(not isinstance(x, Mapping) for x in v):
                out[name] = " ".join(str(x) for x in v)
            # lists of objects (maintenance intervals, incidents) have tables of their own
        else:
            out[name] = v
    return out


def rows(name: str, report: Mapping[str, Any]) -> list[dict[str, Any]]:
    if name == "response":
        total = {"key": "(total)", **report["total"], "trend": report["trend"]}
        return [flat(r) for r in [total, *report.get("groups", [])]]
    if name == "wake":
        return [flat(r) for r in report["incidents"]]
    if name == "interruptions":
        total = {"person": "(total)", **report["total"]}
        return [flat(r) for r in [total, *report["people"]]]
    if name == "on-call":
        return [flat(r) for r in _oncall_rows(report)]
    if name == "availability":
        services = [{"kind": "service", "id": s["service"], **s} for s in report["services"]]
        monitors = [{"kind": "monitor", "id": m["monitor"], **m} for m in report["monitors"]]
        return [flat(r) for r in [*services, *monitors]]
    raise ValueError(f"unknown report {name!r}")


def _oncall_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each person over everything, then each rotation's and each schedule's members, with a
    ``(total)`` row per schedule carrying its gap hours (the gaps themselves are in the JSON)."""
    out = [{"kind": "person", "id": None, **p} for p in report["people"]]
    out += [{"kind": "rotation", "id": r["rotation"], **m} for r in report["rotations"] for m in r["members"]]
    for s in report["schedules"]:
        total = {k: s[k] for k in ("hours", "override_hours", "gap_hours", "gaps_count")}
        out.append({"kind": "schedule", "id": s["schedule"], "person": "(total)", **total})
        out += [{"kind": "schedule", "id": s["schedule"], **m} for m in s["members"]]
    return out


def to_csv(table: Sequence[Mapping[str, Any]]) -> str:
    columns: list[str] = []
    for r in table:
        columns += [c for c in r if c not in columns]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    for r in table:
        w.writerow({c: "" if r.get(c) is None else r.get(c) for c in columns})
    return buf.getvalue()
