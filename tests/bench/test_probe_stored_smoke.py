"""bench/probe_stored.py still runs end to end (tiny sizes; the figures are not checked)."""

from __future__ import annotations

from bench import probe_stored
from tests.support.peers import peer_binary


def test_probe_stored_bench_prints_both_sides_and_the_ratio(capsys):
    peer_binary("nginx")
    peer_binary("blackbox")
    probe_stored.main(
        ["--seconds", "1", "--warmup", "0.3", "--rounds", "1", "--monitors", "50", "--concurrency", "5"]
        + ["--connections", "2", "--no-uvloop"]
    )
    out = capsys.readouterr().out
    assert "round 1 koban" in out
    assert "round 1 blackbox" in out
    assert "RESULT probes/s" in out
