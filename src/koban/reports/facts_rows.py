"""Reading ``report_incident_facts`` rows, joined onto incidents, back into ``Facts`` (written by
``incident_facts.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from koban.db.schema_reports import report_incident_facts as rf
from koban.domain.time_to_wake import Moment, TimeToWake
from koban.reports.records import Facts

SETTLE = 3600.0  # an incident resolved this long ago has its facts made; later reports may read them


PREFIX = "f_"
NAMES = [c.name for c in rf.c if c.name != "incident_id"]  # fence, acknowledged_at, ..., woken_ack_who
AT = {name: i for i, name in enumerate(NAMES)}


def columns() -> list[sa.ColumnElement[Any]]:
    """The facts columns to outer-join onto an incidents query, prefixed so none shadows another."""
    return [rf.c[name].label(PREFIX + name) for name in NAMES]


def facts_of(v: Sequence[Any]) -> Facts:
    """From the values of ``columns()``, in their order (tuples: reading a row by key costs more)."""
    return Facts(
        v[AT["acknowledged_at"]], v[AT["acknowledged_by"]], bool(v[AT["reassigned"]]), lambda: wake_of(v)
    )


def wake_of(v: Sequence[Any]) -> TimeToWake:
    start = float(v[AT["first_failure_at"]])

    def moment(col: str) -> Moment | None:
        at = v[AT[col + "_at"]]
        if at is None:
            return None
        return Moment(float(at), max(0.0, float(at) - start), v[AT[col + "_how"]], v[AT[col + "_who"]])

    first = Moment(start, 0.0, v[AT["first_failure_how"]], v[AT["first_failure_who"]])
    return TimeToWake(first, moment("first_page"), moment("first_reached"), moment("woken_ack"))


def usable(fence: float | None, updated_at: float, resolved_at: float | None, as_of: float) -> bool:
    """Facts may stand for an incident's raw events in a report made at ``as_of``."""
    return fence == updated_at and resolved_at is not None and resolved_at + SETTLE <= as_of
