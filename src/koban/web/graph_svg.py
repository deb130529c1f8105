"""A monitor's response-time graphs drawn on the server as SVG: no script, no chart library, nothing
to load but the page (it works on a closed network and under the pages' Content-Security-Policy).

Pure: points in (``monitoring.queries.windows``), shapes out (paths, rectangles,
ticks) that the template writes into ``<svg>``. A window with no data breaks the line instead of
joining its neighbours, so an outage of the prober is not drawn as a flat response time.

- ``bands``: p50 line, p50 to p95 band, p95 to max band of the total time, failures marked below;
- ``phases``: the average of each phase stacked (averages add up to the average total, percentiles
  do not);
- ``compare``: the p95 of each location, one line each;
- ``zoom``: the range cut in equal slices, each a link to itself;
- no more points than the plot has room for (``MAX_POINTS``): ``monitoring.queries.windows`` groups
  them as it reads them (a 24 h graph of minutes is 1,440 windows).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from koban.monitoring.graph_points import Window as Point
from koban.probes.result import PHASES

WIDTH, HEIGHT = 800.0, 200.0
LEFT, RIGHT, TOP, BOTTOM = 64.0, 8.0, 8.0, 24.0
FAIL_ROW = 6.0  # the strip under the plot where failures are marked
ZOOM_SLICES = 8
MAX_POINTS = 300  # per series: about one per 2.5 px of the plot
PHASE_COLOURS = {
    "resolve": "#6a3d9a",
    "connect": "#1f78b4",
    "tls": "#33a02c",
    "processing": "#e08000",
    "transfer": "#b15928",
}
PHASE_NAMES = {  # how people call them (the stored names are blackbox's)
    "resolve": "DNS",
    "connect": "connect",
    "tls": "TLS",
    "processing": "first byte",
    "transfer": "transfer",
}
LINE_COLOURS = ("#1f4e9c", "#b3261e", "#2d6a2d", "#7a4eb0", "#8a5a00", "#00687a", "#a1426b", "#4d4d4d")


@dataclass(slots=True)
class Chart:
    t0: float
    t1: float
    width: float  # seconds per window
    ymax: float  # seconds at the top
    paths: list[tuple[str, str, str]] = field(default_factory=list)  # (d, fill, stroke)
    marks: list[tuple[float, float, str]] = field(default_factory=list)  # failures: (x, w, title)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (colour, name)

    @property
    def plot_bottom(self) -> float:
        return HEIGHT - BOTTOM - FAIL_ROW

    def x(self, t: float) -> float:
        span = max(self.t1 - self.t0, 1.0)
        return LEFT + (min(max(t, self.t0), self.t1) - self.t0) / span * (WIDTH - LEFT - RIGHT)

    def y(self, seconds: float) -> float:
        top = max(self.ymax, 1e-9)
        return self.plot_bottom - min(seconds, top) / top * (self.plot_bottom - TOP)


def nice_ceiling(value: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``value`` (the graph's top)."""
    if value <= 0:
        return 0.001
    power = 10.0 ** math.floor(math.log10(value))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= value))


def _runs(points: Sequence[Point], width: float) -> list[list[Point]]:
    """Points in runs without gaps: a missing window starts a new run."""
    runs: list[list[Point]] = []
    for p in points:
        if runs and p.at - runs[-1][-1].at <= width * 1.5:
            runs[-1].append(p)
        else:
            runs.append([p])
    return runs


def _line(c: Chart, run: Sequence[Point], value: Callable[[Point], float]) -> str:
    return "M" + " L".join(f"{c.x(p.at + c.width / 2):.1f},{c.y(value(p)):.1f}" for p in run)


def _area(
    c: Chart, run: Sequence[Point], low: Callable[[Point], float], high: Callable[[Point], float]
) -> str:
    top = [f"{c.x(p.at + c.width / 2):.1f},{c.y(high(p)):.1f}" for p in run]
    bottom = [f"{c.x(p.at + c.width / 2):.1f},{c.y(low(p)):.1f}" for p in reversed(run)]
    if len(run) == 1:  # one window: a bar as wide as it
        x0, x1 = c.x(run[0].at), c.x(run[0].at + c.width)
        y0, y1 = c.y(low(run[0])), c.y(high(run[0]))
        return f"M{x0:.1f},{y1:.1f} L{x1:.1f},{y1:.1f} L{x1:.1f},{y0:.1f} L{x0:.1f},{y0:.1f} Z"
    return "M" + " L".join(top + bottom) + " Z"


def _stat(p: Point, metric: str, stat: str) -> float:
    return float((p.seconds.get(metric) or {}).get(stat, 0.0))


def _ticks(c: Chart, fmt: Callable[[float], str]) -> None:
    c.y_ticks = [(c.y(c.ymax * i / 4), fmt(c.ymax * i / 4)) for i in range(5)]


def _failures(c: Chart, points: Sequence[Point], label: Callable[[Point], str]) -> None:
    for p in points:
        if p.failures:
            x0 = c.x(p.at)
            c.marks.append((x0, max(c.x(p.at + c.width) - x0, 2.0), label(p)))


def bands(
    points: Sequence[Point],
    t0: float,
    t1: float,
    width: float,
    fmt: Callable[[float], str],
    failure_label: Callable[[Point], str],
) -> Chart:
    highest = max((_stat(p, "total", "p95") for p in points), default=0.0)
    peak = max((_stat(p, "total", "max") for p in points), default=0.0)
    c = Chart(t0, t1, width, nice_ceiling(min(peak, highest * 4) if highest else peak))
    for run in _runs([p for p in points if p.count], width):
        c.paths.append(
            (
                _area(c, run, lambda p: _stat(p, "total", "p95"), lambda p: _stat(p, "total", "max")),
                "#d6e2f3",
                "none",
            )
        )
        c.paths.append(
            (
                _area(c, run, lambda p: _stat(p, "total", "p50"), lambda p: _stat(p, "total", "p95")),
                "#8fb0df",
                "none",
            )
        )
        c.paths.append((_line(c, run, lambda p: _stat(p, "total", "p50")), "none", "#1f4e9c"))
    _failures(c, points, failure_label)
    _ticks(c, fmt)
    return c


def phases(points: Sequence[Point], t0: float, t1: float, width: float, fmt: Callable[[float], str]) -> Chart:
    # Each point's stack (0, DNS, DNS + connect, ...) summed once, not once per layer drawn.
    stacks: dict[float, list[float]] = {}
    for p in points:
        tops = [0.0]
        for ph in PHASES:
            tops.append(tops[-1] + _stat(p, ph, "avg"))
        stacks[p.at] = tops

    def upto(i: int) -> Callable[[Point], float]:
        return lambda p: stacks[p.at][i]

    c = Chart(t0, t1, width, nice_ceiling(max((s[-1] for s in stacks.values()), default=0.0)))
    for run in _runs([p for p in points if p.count], width):
        for i, name in enumerate(PHASES):
            c.paths.append((_area(c, run, upto(i), upto(i + 1)), PHASE_COLOURS[name], "none"))
    c.legend = [(PHASE_COLOURS[name], PHASE_NAMES[name]) for name in PHASES]
    _ticks(c, fmt)
    return c


def compare(
    series: Mapping[str, Sequence[Point]], t0: float, t1: float, width: float, fmt: Callable[[float], str]
) -> Chart:
    top = max((_stat(p, "total", "p95") for ps in series.values() for p in ps), default=0.0)
    c = Chart(t0, t1, width, nice_ceiling(top))
    for i, (location, points) in enumerate(sorted(series.items())):
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        for run in _runs([p for p in points if p.count], width):
            c.paths.append((_line(c, run, lambda p: _stat(p, "total", "p95")), "none", colour))
        c.legend.append((colour, location))
    _ticks(c, fmt)
    return c


def x_ticks(t0: float, t1: float, fmt: Callable[[float], str], count: int = 6) -> list[tuple[float, str]]:
    c = Chart(t0, t1, 0.0, 1.0)
    return [(c.x(t), fmt(t)) for t in (t0 + (t1 - t0) * i / (count - 1) for i in range(count))]


def zoom(t0: float, t1: float, slices: int = ZOOM_SLICES) -> list[tuple[float, float, float, float]]:
    """``(x, w, since, until)`` per slice: clicking a slice shows that part of the range."""
    c = Chart(t0, t1, 0.0, 1.0)
    step = (t1 - t0) / slices
    out = []
    for i in range(slices):
        a, b = t0 + i * step, t0 + (i + 1) * step
        out.append((c.x(a), c.x(b) - c.x(a), a, b))
    return out
