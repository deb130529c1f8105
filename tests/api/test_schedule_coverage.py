"""REST: a schedule's coverage over the next N weeks: its gaps and the hours each person is on call."""

from __future__ import annotations

from tests.paging.test_schedule_notices import business_hours
from tests.support.system import client, running_system


async def test_coverage_lists_the_gaps_and_the_hours_per_person(db_url, tmp_path):
    # The fake clock: Friday 2027-01-15 09:00 in Paris: bob until Monday's handoff, then alice.
    async with running_system(db_url, business_hours(), tmp_path) as k, client(k) as c:
        r = await c.get("/api/v1/schedules/biz/coverage", params={"weeks": 1})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["hours"] == {"alice": 36.0, "bob": 9.0}
        assert [g["hours"] for g in body["gaps"]] == [63.0, 15.0, 15.0, 15.0, 15.0]
        assert body["gaps"][0]["start_local"] == "2027-01-15T18:00:00"
        assert body["covered"] == round(45 / 168, 6)
        assert (await c.get("/api/v1/schedules/biz/coverage", params={"weeks": 0})).status_code == 422
