"""Several locations judged through the database: N of M, one alert however many probers see the
outage, and each prober probing only what lists its location. Both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from koban.core.clock import SystemClock
from koban.db.schema import incidents
from koban.db.schema_probes import monitor_state
from koban.monitoring.prober import Prober
from koban.probes.result import ProbeResult
from tests.monitoring.support import config_with, http_monitor, running_prober, until
from tests.support.system import running_system

NOW = datetime.now(UTC).replace(microsecond=0)


def outcome(location: str, ok: bool, at: datetime) -> ProbeResult:
    return ProbeResult(
        kind="http",
        target="http://shop",
        success=ok,
        started_at=at,
        duration=0.05,
        error="" if ok else f"refused from {location}",
        monitor_id="shop",
        location=location,
    )


async def _state(k) -> tuple[str, str] | None:
    async with k.db.read() as conn:
        row = (await conn.execute(sa.select(monitor_state.c.status, monitor_state.c.reason))).first()
    return tuple(row) if row else None


async def _incident_count(k) -> int:
    async with k.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(incidents))).scalar()


async def test_two_of_three_locations_must_fail_and_one_alert_is_raised(db_url, tmp_path):
    mon = http_monitor(
        "http://127.0.0.1:9/", ident="shop", locations=["tokyo", "osaka", "aws"], rules={"locations_down": 2}
    )
    async with running_system(db_url, config_with(mon), tmp_path, clock=SystemClock()) as k:
        probers = {loc: Prober(k.deps, loc) for loc in ("tokyo", "osaka", "aws")}
        for p in probers.values():  # membership only; the runners are not started
            await p.sync()

        async def report(location: str, ok: bool, seconds: int) -> None:
            p = probers[location]
            at = NOW + timedelta(seconds=seconds)
            await p.store.write([outcome(location, ok, at)], p.rules)
            await p.judge({"shop"}, now=at)

        for loc in probers:
            await report(loc, True, 0)
        assert await _state(k) == ("up", "")
        await report("tokyo", False, 1)
        assert await _state(k) == ("up", "")  # one of three: the network near tokyo, not the shop
        await report("osaka", False, 2)
        assert await _state(k) == ("down", "failing")
        await report("aws", False, 3)  # a third location agreeing raises nothing new
        await report("tokyo", False, 4)
        assert await _incident_count(k) == 1
        async with k.db.read() as conn:
            inc = (await conn.execute(sa.select(incidents))).one()
        assert "in 2 of 3 locations" in inc.summary and inc.incident_key == "monitor:shop"
        await report("osaka", True, 5)
        await report("aws", True, 6)
        assert await _state(k) == ("up", "")
        async with k.db.read() as conn:
            assert (await conn.execute(sa.select(incidents.c.status))).scalar() == "resolved"


async def test_each_prober_runs_only_monitors_listing_its_location(db_url, tmp_path, http_server):
    cfg = config_with(
        http_monitor(f"{http_server.base}/ok", ident="both", locations=["tokyo", "osaka"]),
        http_monitor(f"{http_server.base}/ok", ident="tokyo-only", locations=["tokyo"]),
    )
    async with (
        running_system(db_url, cfg, tmp_path, clock=SystemClock()) as k,
        running_prober(k, "tokyo") as tokyo,
        running_prober(k, "osaka") as osaka,
    ):
        assert set(tokyo.monitors) == {"both", "tokyo-only"} and set(osaka.monitors) == {"both"}

        async def stored() -> bool:
            return bool(tokyo.runner.stats.stored and osaka.runner.stats.stored)

        await until(stored, "both probers to store results")
        async with k.db.read() as conn:
            rows = set((await conn.execute(sa.text("SELECT monitor_id, location FROM probe_latest"))).all())
        assert rows <= {("both", "tokyo"), ("both", "osaka"), ("tokyo-only", "tokyo")}
        assert ("tokyo-only", "osaka") not in rows
