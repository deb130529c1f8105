"""The stored form of a rollup's histograms: a few bytes of varints instead of JSON. Pure.

A minute window of a monitor probed every 60 s holds one result, and 100,000 such monitors write
144 million of those rows a day, so the row's size is most of the database (issue 18). JSON of six
histograms took ~700 bytes; this takes ~15 for one result and ~30 per metric for an hour.

Values are whole tenths of a microsecond (``DIGITS``, what the JSON form kept), as unsigned varints.
Two layouts, told apart by the first byte:
- ``SINGLE``: the window holds one result; one value per metric in ``METRICS`` order. Its histogram
  is fully determined by the value (one bucket, count 1, sum = min = max).
- ``FULL``: per metric, the buckets in whichever form is shorter, then sum, min, max:
  dense: ``n << 1 | 1``, the first bucket, then the counts of ``n`` consecutive buckets (zeros
  included: an hour of one target spans ~20 neighbouring buckets, so this saves the indexes);
  sparse: ``n << 1``, then n (bucket - previous bucket, count) pairs in ascending order.
- ``DEFLATED``: the ``FULL`` bytes after the layout byte, raw-deflated, when that is shorter (an hour
  or a day of a jittery target: ~25 % less; those rows are kept for weeks).
The window's result count is the row's ``count`` column, passed back in to decode.
"""

from __future__ import annotations

import math
import zlib
from bisect import bisect_left
from collections.abc import Mapping
from itertools import accumulate

from koban.probes.rollup import DIGITS, METRICS, Histogram, bucket_of, bucket_value

SINGLE, FULL, DEFLATED = 1, 2, 3
_SCALE = 10**DIGITS


def _units(seconds: float) -> int:
    return max(0, int(round(seconds * _SCALE)))


def _put(out: bytearray, n: int) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def encode(metrics: Mapping[str, Histogram], count: int) -> bytes:
    out = bytearray()
    if count == 1 and all(metrics[m].count == 1 for m in METRICS if m in metrics):
        out.append(SINGLE)
        for m in METRICS:
            h = metrics.get(m)
            _put(out, _units(h.max) if h is not None else 0)
        return bytes(out)
    out.append(FULL)
    for m in METRICS:
        h = metrics.get(m) or Histogram()
        out += _buckets(h.counts)
        _put(out, _units(h.total))
        _put(out, _units(h.min) if h.count else 0)
        _put(out, _units(h.max))
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = packer.compress(bytes(out[1:])) + packer.flush()
    return bytes([DEFLATED]) + packed if len(packed) + 1 < len(out) else bytes(out)


def _buckets(counts: Mapping[int, int]) -> bytearray:
    sparse, dense = bytearray(), bytearray()
    _put(sparse, len(counts) << 1)
    prev = 0
    for b in sorted(counts):
        _put(sparse, b - prev)
        _put(sparse, counts[b])
        prev = b
    if not counts:
        return sparse
    lo, hi = min(counts), max(counts)
    _put(dense, (hi - lo + 1) << 1 | 1)
    _put(dense, lo)
    for b in range(lo, hi + 1):
        _put(dense, counts.get(b, 0))
    return dense if len(dense) < len(sparse) else sparse


def _values(data: bytes) -> list[int]:
    """All varints after the layout byte."""
    body = zlib.decompress(data[1:], -15) if data[0] == DEFLATED else data[1:]
    out, n, shift = [], 0, 0
    for byte in body:
        n |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            out.append(n)
            n = shift = 0
    return out


def singles(data: bytes) -> list[float] | None:
    """The one value of each metric (seconds) when the row holds one result, else None: a chart
    reads these directly (p50 = p95 = max = avg)."""
    if data[0] != SINGLE:
        return None
    return [v / _SCALE for v in _values(data)]


def decode(data: bytes, count: int) -> dict[str, Histogram]:
    one = singles(data)
    if one is not None:
        return {m: Histogram({bucket_of(v): 1}, 1, v, v, v) for m, v in zip(METRICS, one, strict=True)}
    vals = _values(data)
    out: dict[str, Histogram] = {}
    i = 0
    for m in METRICS:
        n, dense = vals[i] >> 1, vals[i] & 1
        i += 1
        counts: dict[int, int] = {}
        if dense:
            lo = vals[i]
            counts = {lo + k: c for k, c in enumerate(vals[i + 1 : i + 1 + n]) if c}
            i += 1 + n
        else:
            b = 0
            for _ in range(n):
                b += vals[i]
                counts[b] = vals[i + 1]
                i += 2
        total, lo, hi = vals[i] / _SCALE, vals[i + 1] / _SCALE, vals[i + 2] / _SCALE
        i += 3
        out[m] = Histogram(counts, count, total, lo if count else math.inf, hi)
    return out


Summary = tuple[float, float, float, float]  # seconds: p50, p95, max, avg


def summaries(data: bytes, count: int) -> list[Summary]:
    """Per metric in ``METRICS`` order, what ``Histogram.quantiles(0.5, 0.95)``, ``max`` and the mean
    of ``decode(data, count)`` give, read straight from the varints: a 30-day graph summarizes 744
    hour rows, and building a dict per histogram to walk it once cost most of its time. The ranks
    are found by bisecting running totals (``accumulate``, ``bisect``: loops in C, not Python)."""
    one = singles(data)
    if one is not None:
        return [(v, v, v, v) for v in one]
    vals = _values(data)
    r50, r95 = max(1, math.ceil(0.5 * count)), max(1, math.ceil(0.95 * count))
    out: list[Summary] = []
    i = 0
    for _ in METRICS:
        n, dense = vals[i] >> 1, vals[i] & 1
        i += 1
        if dense:
            lo = vals[i]
            seen = list(accumulate(vals[i + 1 : i + 1 + n]))
            buckets: list[int] | range = range(lo, lo + n)
            i += 1 + n
        else:
            seen = list(accumulate(vals[i + 1 : i + 2 * n : 2]))
            buckets = list(accumulate(vals[i : i + 2 * n : 2]))
            i += 2 * n
        total, low, high = vals[i] / _SCALE, vals[i + 1] / _SCALE, vals[i + 2] / _SCALE
        i += 3
        if not count:
            out.append((0.0, 0.0, high, 0.0))
            continue
        k50, k95 = bisect_left(seen, r50), bisect_left(seen, r95)  # the first bucket reaching the rank
        p50 = min(max(bucket_value(buckets[k50]), low), high) if k50 < n else high
        p95 = min(max(bucket_value(buckets[k95]), low), high) if k95 < n else high
        out.append((p50, p95, high, total / count))
    return out
