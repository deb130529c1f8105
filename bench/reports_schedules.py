"""On-call schedules for bench/reports_scale.py: ``count`` two-layer schedules (a weekly rotation
of four people always on, and a weekday 09:00-17:00 daily rotation of three above it) in their own
zones, each with an override a month, written straight into the schedules table as config apply
stores them (the on-call report resolves each of them over the year)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from koban.config.model_schedules import Schedule

ZONES = ("Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC")
DAY = 86400.0


def schedule(i: int, now: float) -> Schedule:
    people = [f"p{(i * 7 + j) % 500:03d}" for j in range(7)]
    first = now - 366 * DAY
    overrides = [
        {
            "id": f"o{m}",
            "start": datetime.fromtimestamp(first + m * 30 * DAY, UTC).isoformat(),
            "end": datetime.fromtimestamp(first + m * 30 * DAY + 8 * 3600, UTC).isoformat(),
            "person": people[m % 7],
        }
        for m in range(12)
    ]
    return Schedule.model_validate(
        {
            "id": f"s{i:04d}",
            "timezone": ZONES[i % len(ZONES)],
            "layers": [
                {"name": "week", "members": people[:4], "rotation": "weekly", "start": "2025-01-06"},
                {"name": "days", "members": people[4:], "rotation": "daily", "start": "2025-01-06",
                 "handoff": "09:00", "restrictions": [{"days": ["mon", "tue", "wed", "thu", "fri"],
                                                       "from": "09:00", "to": "17:00"}]},
            ],
            "overrides": overrides,
        }
    )  # fmt: skip


def schedule_rows(count: int, now: float) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        s = schedule(i, now)
        out.append({"id": s.id, "name": "", "definition": s.model_dump(mode="json"), "updated_at": now})
    return out
