"""bench/wake_vs_prometheus.py still runs end to end (one round; the figures are not checked)."""

from __future__ import annotations

from bench import wake_vs_prometheus
from tests.support.peers import peer_binary


def test_wake_bench_times_both_sides_and_prints_the_ratio(capsys):
    for name in ("nginx", "blackbox", "prometheus", "alertmanager"):
        peer_binary(name)
    wake_vs_prometheus.main(["--rounds", "1", "--timeout", "60"])
    out = capsys.readouterr().out
    assert "round 1 koban" in out
    assert "round 1 prometheus" in out
    assert "RESULT time to wake" in out
