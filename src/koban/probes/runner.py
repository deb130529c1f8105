"""The async runner: one heap of due times for all monitors, a semaphore, batched results.

Why a heap and not a task per monitor: 100,000 sleeping tasks cost memory and timer churn, and give no
single place to apply back-pressure. Here one loop pops whatever is due, waits for a concurrency slot
(so an overloaded runner slows down instead of piling up sockets), re-files the monitor at its next grid
slot (``schedule.next_due``: late runs skip missed slots rather than bunching), and starts one task per
probe *execution*. A failed probe is re-checked at once, inside the same slot, up to ``Monitor.rechecks``
times; every attempt is stored, marked ``final`` or not, and the state rules only act on final ones.
Results go to ``store(batch)`` in batches (size or time, whichever first), one store call at a time;
a result the caller's ``urgent`` predicate picks (a state change) sends the batch at once.
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from koban.core.clock import Clock
from koban.probes.result import ProbeResult
from koban.probes.rules import should_recheck
from koban.probes.schedule import check_interval, first_due, next_due, phase_offset

log = logging.getLogger(__name__)
# Batches allowed to wait for the store before new probes pause. Probing and storing share one event
# loop; without this, a CPU-starved process keeps probing while stored results lag minutes behind
# and the buffer grows without bound. Paused, it is late instead (visible as late_skips) and bounded.
MAX_QUEUED_BATCHES = 2


@dataclass(frozen=True, slots=True)
class Monitor:
    """What the runner needs; ``spec`` is the caller's own (e.g. an HttpProbeConfig) for the probe fn."""

    id: str
    interval: float
    location: str = ""
    rechecks: int = 0
    spec: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        check_interval(self.interval)
        if self.rechecks < 0:
            raise ValueError("rechecks must be >= 0")


ProbeFn = Callable[[Monitor], Awaitable[ProbeResult]]
StoreFn = Callable[[list[ProbeResult]], Awaitable[None] | None]
UrgentFn = Callable[[ProbeResult], bool]


@dataclass(slots=True)
class RunnerStats:
    probes: int = 0
    rechecks: int = 0
    stored: int = 0
    store_errors: int = 0
    late_skips: int = 0
    store_waits: int = 0  # times probing paused because results waited for the store


class Runner:
    def __init__(
        self,
        probe: ProbeFn,
        store: StoreFn,
        *,
        concurrency: int = 500,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        clock: Clock,
        urgent: UrgentFn | None = None,
    ) -> None:
        self._probe, self._store, self._clock = probe, store, clock.now
        self._urgent = urgent
        self._sem = asyncio.Semaphore(concurrency)
        self._batch_size, self._flush_interval = batch_size, flush_interval
        self._heap: list[tuple[float, int, str, int]] = []  # (due, tie-break, monitor id, generation)
        self._monitors: dict[str, tuple[Monitor, int, float]] = {}  # id -> (monitor, generation, offset)
        self._seq = itertools.count()
        self._gen = itertools.count(1)
        self._buffer: list[ProbeResult] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._store_lock = asyncio.Lock()
        self._queued_batches = 0
        self._store_drained = asyncio.Event()
        self._store_drained.set()
        self._waker: asyncio.Future[None] | None = None
        self._stopping = False
        self._last_flush = 0.0
        self.stats = RunnerStats()

    # -- membership ---------------------------------------------------------
    def add(self, monitor: Monitor) -> float:
        """Add or replace a monitor (a config edit); returns its first due time."""
        gen = next(self._gen)
        due = first_due(monitor.id, monitor.interval, self._clock())
        self._monitors[monitor.id] = (monitor, gen, phase_offset(monitor.id, monitor.interval))
        heapq.heappush(self._heap, (due, next(self._seq), monitor.id, gen))
        self._wake()
        return due

    def remove(self, monitor_id: str) -> None:
        # Lazy deletion: the heap entry stays and is dropped when popped (its generation is gone).
        self._monitors.pop(monitor_id, None)

    def check_now(self, monitor_id: str) -> None:
        """An extra run right now ("test" button, or a re-check from outside); the schedule is unchanged."""
        if monitor_id in self._monitors:
            heapq.heappush(self._heap, (self._clock(), next(self._seq), monitor_id, 0))
            self._wake()

    def __len__(self) -> int:
        return len(self._monitors)

    # -- main loop ----------------------------------------------------------
    async def run(self) -> None:
        self._last_flush = self._clock()
        heap, monitors = self._heap, self._monitors
        while not self._stopping:
            now = self._clock()
            if heap and heap[0][0] <= now:
                due, _, monitor_id, gen = heapq.heappop(heap)
                entry = monitors.get(monitor_id)
                if entry is None or (gen and entry[1] != gen):
                    continue  # removed or replaced since it was filed
                monitor, _, offset = entry
                if gen:  # scheduled (not a check_now extra): file the next slot first
                    nxt = next_due(due, monitor.interval, offset, now)
                    if nxt > due + monitor.interval * 1.5:
                        self.stats.late_skips += 1
                    heapq.heappush(heap, (nxt, next(self._seq), monitor_id, gen))
                if not self._store_drained.is_set():
                    self.stats.store_waits += 1
                    await self._store_drained.wait()
                await self._sem.acquire()
                task = asyncio.create_task(self._execute(monitor))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                continue
            if self._buffer and now - self._last_flush >= self._flush_interval:
                self._flush()
            wait = min(heap[0][0] - now, self._flush_interval) if heap else self._flush_interval
            await self._sleep(max(wait, 0.0))

    async def stop(self) -> None:
        """Stop scheduling, let running probes finish, store what is buffered."""
        self._stopping = True
        self._wake()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._flush()
        while self._tasks:  # the final store
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- one execution ------------------------------------------------------
    async def _execute(self, monitor: Monitor) -> None:
        try:
            attempt = 0
            while True:
                # Stamped from the injected clock, not by the probe: stored history, rollups and
                # alert times then share one time base with the rest of koban (and tests can pin it).
                started_at = datetime.fromtimestamp(self._clock(), UTC)
                result = await self._run_probe(monitor, started_at)
                again = should_recheck(result.success, attempt, monitor.rechecks)
                self._record(
                    replace(
                        result,
                        started_at=started_at,
                        monitor_id=monitor.id,
                        location=monitor.location,
                        attempt=attempt,
                        final=not again,
                    )
                )
                if not again or self._stopping:
                    return
                attempt += 1
                self.stats.rechecks += 1
        finally:
            self._sem.release()

    async def _run_probe(self, monitor: Monitor, started_at: datetime) -> ProbeResult:
        self.stats.probes += 1
        try:
            return await self._probe(monitor)
        except Exception as exc:  # a prober bug must not kill the runner nor look like "up"
            log.exception("probe for monitor %s crashed", monitor.id)
            return ProbeResult(
                kind="error",
                target=monitor.id,
                success=False,
                started_at=started_at,
                duration=0.0,
                error=f"probe crashed: {exc!r}",
            )

    def _record(self, result: ProbeResult) -> None:
        self._buffer.append(result)
        # An urgent result (one that changes a monitor's state: a page, or its end) goes now, with
        # whatever is buffered: the flush interval is for storing history, not for paging.
        if len(self._buffer) >= self._batch_size or (self._urgent is not None and self._urgent(result)):
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        self._last_flush = self._clock()
        self._queued_batches += 1
        if self._queued_batches > MAX_QUEUED_BATCHES:
            self._store_drained.clear()
        task = asyncio.create_task(self._store_batch(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _store_batch(self, batch: list[ProbeResult]) -> None:
        async with self._store_lock:  # one writer at a time, batches in order
            try:
                outcome = self._store(batch)
                if inspect.isawaitable(outcome):
                    await outcome
                self.stats.stored += len(batch)
            except Exception:
                # Probe history is not must-deliver (the next probe supersedes it): log and go on.
                self.stats.store_errors += 1
                log.exception("storing %d probe results failed", len(batch))
            finally:
                self._queued_batches -= 1
                if self._queued_batches <= MAX_QUEUED_BATCHES:
                    self._store_drained.set()

    # -- sleeping that add()/stop() can cut short ---------------------------
    async def _sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        fut = self._waker = loop.create_future()
        handle = loop.call_later(seconds, self._wake)
        try:
            await fut
        finally:
            handle.cancel()
            self._waker = None

    def _wake(self) -> None:
        if self._waker is not None and not self._waker.done():
            self._waker.set_result(None)
