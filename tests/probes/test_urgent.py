"""A result that changes a monitor's state is sent on at once; the rest waits for the batch timer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from koban.core.clock import FakeClock
from koban.probes.result import ProbeResult
from koban.probes.rules import MonitorState, Rule, Snapshot, announces
from koban.probes.runner import Monitor, Runner

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RULE = Rule(monitor_id="api", service="web")


def result(t: float, ok: bool, *, final: bool = True) -> ProbeResult:
    return ProbeResult(
        kind="http",
        target="https://api",
        success=ok,
        started_at=T0 + timedelta(seconds=t),
        duration=0.05,
        error="" if ok else "connection refused",
        monitor_id="api",
        location="local",
        final=final,
    )


def state(status: str, *, failing_since: float | None = None, reason: str = "") -> MonitorState:
    fail = T0 + timedelta(seconds=failing_since) if failing_since is not None else None
    snap = Snapshot(at=T0, success=fail is None, duration_ms=50, fail_since=fail)
    return MonitorState(status=status, reason=reason, latest={"local": snap})


@pytest.mark.parametrize(
    ("before", "rule", "res", "urgent"),
    [
        (state("up"), RULE, result(1, True), False),  # still up
        (state("up"), RULE, result(1, False), True),  # up -> down
        (state("up"), RULE, result(1, False, final=False), False),  # a re-check to come decides
        (state("down", failing_since=0, reason="failing"), RULE, result(1, False), False),  # still down
        (state("down", failing_since=0, reason="failing"), RULE, result(1, True), True),  # down -> up
        (state("up"), Rule("api", "web", down_for=30), result(1, False), False),  # pending, not yet
        (state("up", failing_since=0), Rule("api", "web", down_for=30), result(31, False), True),
        (MonitorState(), RULE, result(1, True), False),  # first result up: nothing to announce
        (MonitorState(), RULE, result(1, False), True),  # first result down pages
    ],
)
def test_a_result_is_urgent_only_when_it_changes_the_state(before, rule, res, urgent) -> None:
    now = res.started_at + timedelta(seconds=0.01)
    assert announces(before, rule, res, now) is urgent


async def test_runner_sends_an_urgent_result_without_waiting_for_the_flush_interval() -> None:
    batches: list[list[ProbeResult]] = []
    outcomes = iter([True, False])  # the second probe fails: urgent

    async def probe(m: Monitor) -> ProbeResult:
        return result(0, next(outcomes, True))

    runner = Runner(
        probe,
        batches.append,
        flush_interval=3600.0,  # the timer never fires during this test
        clock=FakeClock(1_900_000_000.0),
        urgent=lambda r: not r.success,
    )
    runner.add(Monitor("api", 60.0))
    runner.check_now("api")
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.05)
    assert batches == []  # an ordinary result waits for its batch
    runner.check_now("api")
    for _ in range(100):
        if batches:
            break
        await asyncio.sleep(0.01)
    await runner.stop()
    await task
    assert [r.success for r in batches[0]] == [True, False]  # the failure took the waiting one along
