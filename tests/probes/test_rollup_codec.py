"""The stored bytes of a rollup's histograms decode to the same histograms (to the 0.1 us the stored
seconds keep), in both layouts, and one result costs a few bytes."""

from __future__ import annotations

import random

import pytest

from koban.probes import rollup_codec
from koban.probes.rollup import METRICS, Histogram


def _window(rng: random.Random, n: int) -> dict[str, Histogram]:
    hs = {m: Histogram() for m in METRICS}
    for _ in range(n):
        base = rng.choice([0.0004, 0.02, 0.3])
        for m in METRICS:
            v = 0.0 if m == "tls" else base * rng.lognormvariate(0, 0.5)
            if rng.random() < 0.02:
                v = 10.0  # a timeout far from the rest: the sparse form
            hs[m].add(v)
    return hs


@pytest.mark.parametrize("seed", range(30))
def test_histograms_decode_as_they_were_encoded(seed):
    rng = random.Random(seed)
    n = rng.choice([0, 1, 2, 60, 1440])
    hs = _window(rng, n)
    got = rollup_codec.decode(rollup_codec.encode(hs, n), n)
    for m, h in hs.items():
        assert (got[m].counts, got[m].count) == (h.counts, h.count)
        if n:
            assert [got[m].total, got[m].min, got[m].max] == pytest.approx([h.total, h.min, h.max], abs=2e-7)


def test_one_result_is_stored_as_its_values_in_a_few_bytes():
    hs = _window(random.Random(1), 1)
    blob = rollup_codec.encode(hs, 1)
    assert len(blob) <= 1 + 4 * len(METRICS)
    assert rollup_codec.singles(blob) == pytest.approx([hs[m].max for m in METRICS], abs=1e-7)
    assert rollup_codec.singles(rollup_codec.encode(_window(random.Random(1), 2), 2)) is None


@pytest.mark.parametrize("seed", range(30))
def test_summaries_read_from_the_bytes_equal_those_of_the_decoded_histograms(seed):
    rng = random.Random(seed)
    n = rng.choice([0, 1, 2, 3, 60, 1440])
    data = rollup_codec.encode(_window(rng, n), n)
    decoded = rollup_codec.decode(data, n)
    want = []
    for m in METRICS:
        h = decoded[m]
        p50, p95 = h.quantiles(0.5, 0.95)
        want.append((p50, p95, h.max, h.total / h.count if h.count else 0.0))
    assert rollup_codec.summaries(data, n) == want
