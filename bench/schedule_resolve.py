"""Resolving one year of a final schedule: 50 layers and 500 overrides (target < 100 ms).

Pure code, no database: ``koban.schedules.resolve.final`` over a year of a Europe/Paris schedule
whose layers mix weekly, daily, monthly, hourly and RRULE rotations, half of them restricted to
business hours or nights, with overrides of every kind spread over the year. Layers are resolved
from the top down (a layer is only asked about the time no higher layer holds), so a second shape
makes that help less: every layer restricted to a 3-hour window of the day, none always on. Prints
the best and median of the runs per shape, the slots made, and the load average (the machine may be
shared; the CPU time it took says what a quiet machine would show).

    python -m bench.schedule_resolve [--layers 50] [--overrides 500] [--days 365] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from datetime import time as wall

from koban.schedules.model import Layer, Override, Rotation, Schedule, Window
from koban.schedules.resolve import final

PEOPLE = tuple(f"p{i:03d}" for i in range(60))
UNITS = ("weekly", "daily", "monthly", "hourly")


def make_schedule(layers: int, rng: random.Random) -> Schedule:
    out = []
    for i in range(layers):
        rotation = Rotation("weekly", 1, "FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0") if i % 7 == 6 else None
        if rotation is None:
            unit = UNITS[i % len(UNITS)]
            rotation = Rotation(unit, 12 if unit == "hourly" else 1)  # type: ignore[arg-type]
        restrictions: tuple[Window, ...] = ()
        if i % 2:
            days = frozenset(range(5)) if i % 4 == 1 else frozenset(range(7))
            restrictions = (
                Window(days, wall(9), wall(18)) if i % 4 == 1 else Window(days, wall(22), wall(6)),
            )
        members = tuple(rng.sample(PEOPLE, 4))
        out.append(Layer(f"l{i}", members, rotation, date(2026, 1, 5), wall(9 + i % 3), restrictions))
    return Schedule("bench", "Europe/Paris", tuple(out))


def restricted(s: Schedule) -> Schedule:
    """Every layer on only 3 hours a day (8 windows between them): no layer hides the ones below."""
    days = frozenset(range(7))
    return replace(
        s,
        layers=tuple(
            replace(x, restrictions=(Window(days, wall(i * 3 % 24), wall((i * 3 + 3) % 24)),))
            for i, x in enumerate(s.layers)
        ),
    )


def make_overrides(n: int, start: float, end: float, rng: random.Random) -> list[Override]:
    out = []
    for i in range(n):
        a = rng.uniform(start, end - 86400)
        kind = ("replace", "add", "remove")[i % 3]
        out.append(Override(a, a + rng.uniform(3600, 3 * 86400), rng.choice(PEOPLE), kind, id=f"o{i}"))  # type: ignore[arg-type]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.schedule_resolve", description=__doc__)
    p.add_argument("--layers", type=int, default=50)
    p.add_argument("--overrides", type=int, default=500)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    rng = random.Random(13)
    start = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    end = start + args.days * 86400.0
    sched = make_schedule(args.layers, rng)
    overrides = make_overrides(args.overrides, start, end, rng)
    print(f"\n## final schedule: {args.layers} layers, {args.overrides} overrides, {args.days} days")
    for shape, s in (("mixed layers", sched), ("every layer restricted", restricted(sched))):
        times, cpu, slots = [], [], 0
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            slots = len(final(s, overrides, start, end))
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        print(
            f"{shape:<24} best {min(times):6.1f} ms, median {statistics.median(times):6.1f} ms "
            f"(CPU best {min(cpu):6.1f} ms) over {args.repeat} runs, {slots} slots; target < 100 ms"
        )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"# {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
