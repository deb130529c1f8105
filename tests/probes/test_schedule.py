from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import pytest

from koban.core.clock import FakeClock, SystemClock
from koban.probes import Monitor, ProbeResult, Runner, first_due, next_due, phase_offset
from koban.probes.schedule import check_interval


def test_offsets_are_deterministic_and_spread_evenly() -> None:
    offsets = [phase_offset(f"monitor-{i}", 60.0) for i in range(60_000)]
    assert offsets == [phase_offset(f"monitor-{i}", 60.0) for i in range(60_000)]
    assert all(0 <= o < 60 for o in offsets)
    per_second = Counter(int(o) for o in offsets)
    assert len(per_second) == 60
    assert max(per_second.values()) < 1000 * 1.15  # ~1,000 per second, no pile-up at :00


def test_first_due_is_on_the_grid_at_or_after_now() -> None:
    offset = phase_offset("alice", 30.0)
    due = first_due("alice", 30.0, now=1_000_000.0)
    assert 1_000_000.0 <= due < 1_000_030.0
    assert (due - offset) % 30.0 == pytest.approx(0.0, abs=1e-6)


def test_no_drift_over_a_long_run() -> None:
    """A fake clock running late each time: due times stay on the grid, a million steps later."""
    interval, offset = 7.3, phase_offset("bob", 7.3)
    due = first_due("bob", interval, now=0.0)
    start = due
    for _ in range(1_000_000):
        now = due + 0.25  # every run is observed a little late
        due = next_due(due, interval, offset, now)
    assert due == pytest.approx(start + 1_000_000 * interval, abs=1e-6)


def test_missed_slots_are_skipped_not_bunched() -> None:
    interval, offset = 10.0, 0.0
    # A stall: the loop wakes 35 s after a slot at t=100. Next is 140, not 110, 120, 130 in a burst.
    assert next_due(100.0, interval, offset, now=135.0) == 140.0
    # Exactly on time: the next slot.
    assert next_due(100.0, interval, offset, now=100.0) == 110.0


@pytest.mark.parametrize("bad", [0.5, 86_401, -1])
def test_interval_bounds(bad: float) -> None:
    with pytest.raises(ValueError, match="between 1 s and 1 day"):
        check_interval(bad)


def make_result(success: bool) -> ProbeResult:
    return ProbeResult(
        kind="http",
        target="t",
        success=success,
        started_at=datetime.now(UTC),
        duration=0.001,
        error="" if success else "boom",
    )


async def test_runner_probes_rechecks_failures_at_once_and_stores_in_batches() -> None:
    calls: Counter[str] = Counter()
    batches: list[list[ProbeResult]] = []

    async def probe(m: Monitor) -> ProbeResult:
        calls[m.id] += 1
        return make_result(m.id != "carol")

    runner = Runner(
        probe, batches.append, concurrency=4, batch_size=3, flush_interval=0.05, clock=SystemClock()
    )
    runner.add(Monitor("alice", 1.0))
    runner.add(Monitor("carol", 1.0, location="eu", rechecks=2))
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(1.2)  # at least one slot each, at most two
    await runner.stop()
    await task
    stored = [r for b in batches for r in b]
    carol = [r for r in stored if r.monitor_id == "carol"]
    assert carol, stored
    first_slot = carol[:3]
    assert [(r.attempt, r.final, r.location) for r in first_slot] == [
        (0, False, "eu"),
        (1, False, "eu"),
        (2, True, "eu"),
    ]
    assert calls["carol"] % 3 == 0 and calls["alice"] in (1, 2)
    assert all(len(b) <= 3 for b in batches)
    assert runner.stats.rechecks == 2 * calls["carol"] // 3


async def test_runner_survives_a_crashing_probe_and_a_failing_store() -> None:
    async def probe(m: Monitor) -> ProbeResult:
        raise RuntimeError("bug")

    def store(batch: list[ProbeResult]) -> None:
        raise OSError("db down")

    runner = Runner(probe, store, flush_interval=0.05, clock=SystemClock())
    runner.add(Monitor("dave", 1.0))
    runner.check_now("dave")
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.2)
    await runner.stop()
    await task
    assert runner.stats.probes >= 1 and runner.stats.store_errors >= 1


async def test_removed_monitor_is_not_probed() -> None:
    seen: list[str] = []

    async def probe(m: Monitor) -> ProbeResult:
        seen.append(m.id)
        return make_result(True)

    runner = Runner(probe, lambda b: None, clock=SystemClock())
    runner.add(Monitor("erin", 1.0))
    runner.check_now("erin")
    runner.remove("erin")
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.1)
    await runner.stop()
    await task
    assert seen == [] and len(runner) == 0


async def test_runner_holds_a_hundred_thousand_monitors_cheaply() -> None:
    runner = Runner(lambda m: asyncio.sleep(0, make_result(True)), lambda b: None, clock=SystemClock())
    for i in range(100_000):
        runner.add(Monitor(f"m{i}", 60.0))
    assert len(runner) == 100_000


async def test_results_are_stamped_from_the_injected_clock_not_the_probe() -> None:
    """History, rollups and alert times share koban's one time base: the runner's clock, not the wall."""
    clock = FakeClock(1_900_000_000.0)
    batches: list[list[ProbeResult]] = []
    runner = Runner(
        lambda m: asyncio.sleep(0, make_result(False)),
        batches.append,
        flush_interval=0.01,
        clock=clock,
    )
    runner.add(Monitor("frank", 60.0, rechecks=1))
    runner.check_now("frank")
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.1)
    await runner.stop()
    await task
    stored = [r for b in batches for r in b]
    assert [r.attempt for r in stored] == [0, 1]
    assert {r.started_at for r in stored} == {datetime.fromtimestamp(1_900_000_000.0, UTC)}
