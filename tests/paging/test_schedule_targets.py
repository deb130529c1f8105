"""A policy that targets a schedule pages whoever the final schedule has on call when the step fires,
and the timeline keeps who it was and why."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from koban.catalog.snapshot import hash_key
from koban.config.model import ConfigFile
from koban.core.clock import FakeClock
from koban.db import schema as t
from tests.support.factories import KEY, make_alert
from tests.support.system import deliveries, drain, running_system


def make_cfg(overrides: list[dict] | None = None) -> ConfigFile:
    return ConfigFile.model_validate(
        {
            "people": [{"id": n, "notify": ["log"]} for n in ("alice", "bob", "carol")],
            "channels": [{"id": "log", "type": "console"}],
            "schedules": [
                {
                    "id": "primary",
                    "timezone": "Europe/Paris",
                    "layers": [
                        # Mondays 09:00: alice the week of 19 October 2026, bob the next.
                        {
                            "name": "week",
                            "members": ["alice", "bob"],
                            "start": "2026-10-19",
                            "handoff": "09:00",
                        },
                        {
                            "name": "night",
                            "members": ["carol"],
                            "rotation": "daily",
                            "start": "2026-10-01",
                            "restrictions": [{"from": "22:00", "to": "06:00"}],
                        },
                    ],
                    "overrides": overrides or [],
                }
            ],
            "policies": [
                {
                    "id": "default",
                    "steps": [
                        {"notify": [{"schedule": "primary"}], "escalate_after": "90m"},
                        {"notify": [{"schedule": "primary"}]},
                    ],
                }
            ],
            "services": [
                {
                    "id": "web",
                    "policy": "default",
                    "integrations": [{"id": "web-generic", "type": "generic", "key_hashes": [hash_key(KEY)]}],
                }
            ],
        }
    )


# Paris leaves summer time on 25 October 2026: 03:00 CEST becomes 02:00 CET, so 02:00-03:00 happens
# twice. 02:00 CEST, the first 02:00 of that night, is 00:00 UTC.
FIRST_TWO_AM = datetime(2026, 10, 25, 0, 0, tzinfo=UTC).timestamp()
CAROL_ILL = {
    "id": "carol-ill",
    "start": "2026-10-25T01:30:00+02:00",
    "end": "2026-10-25T02:15:00+01:00",  # the second 02:15 of the night
    "person": "bob",
    "replaces": "carol",
}


async def on_call_notes(k) -> list[dict]:
    async with k.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.timeline.c.data).where(t.timeline.c.kind == "on_call").order_by(t.timeline.c.id)
        )
        return [r.data for r in rows]


async def test_the_override_pages_at_two_in_the_dst_night_and_the_next_step_pages_the_night_layer(
    db_url, tmp_path
):
    clock = FakeClock(FIRST_TWO_AM)
    async with running_system(db_url, make_cfg([CAROL_ILL]), tmp_path, clock=clock) as k:
        [res] = await k.batcher.submit("web-generic", [make_alert()])
        await drain(k)
        assert await deliveries(k) == [("bob", "page", "sent")]
        clock.advance(90 * 60 + 1)  # 02:30 CET, the second 02:30: the override is over
        await drain(k)
        assert await deliveries(k) == [("bob", "page", "sent"), ("carol", "page", "sent")]
        first, second = await on_call_notes(k)
        assert (first["people"], first["source"], first["layer"]) == (["bob"], "override:carol-ill", "night")
        assert first["until"] == datetime(2026, 10, 25, 1, 15, tzinfo=UTC).timestamp()
        assert (second["people"], second["source"], second["step"]) == (["carol"], "layer:night", 1)
        assert res.incident_id is not None


async def test_without_the_override_the_night_layer_is_paged_at_two(db_url, tmp_path):
    async with running_system(db_url, make_cfg(), tmp_path, clock=FakeClock(FIRST_TWO_AM + 3600)) as k:
        await k.batcher.submit("web-generic", [make_alert()])  # the second 02:00 (CET)
        await drain(k)
        assert await deliveries(k) == [("carol", "page", "sent")]


async def test_in_the_day_the_week_layer_is_paged(db_url, tmp_path):
    noon_monday = datetime(2026, 10, 26, 11, 0, tzinfo=UTC).timestamp()  # 12:00 CET: bob's week
    async with running_system(db_url, make_cfg(), tmp_path, clock=FakeClock(noon_monday)) as k:
        await k.batcher.submit("web-generic", [make_alert()])
        await drain(k)
        assert await deliveries(k) == [("bob", "page", "sent")]


async def test_a_gap_pages_nobody_and_says_so_on_the_timeline(db_url, tmp_path):
    cfg = make_cfg()
    layers = cfg.schedules[0].layers[1:]  # nights only
    cfg = cfg.model_copy(update={"schedules": [cfg.schedules[0].model_copy(update={"layers": layers})]})
    noon = datetime(2026, 10, 26, 11, 0, tzinfo=UTC).timestamp()
    async with running_system(db_url, cfg, tmp_path, clock=FakeClock(noon)) as k:
        await k.batcher.submit("web-generic", [make_alert()])
        await drain(k)
        assert await deliveries(k) == []
        [note] = await on_call_notes(k)
        assert (note["people"], note["source"]) == ([], "gap")
