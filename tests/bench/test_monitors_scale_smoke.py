"""bench/monitors_scale.py still runs end to end (a few monitors, seconds; the figures are not checked)."""

from __future__ import annotations

from bench import monitors_scale
from tests.support.peers import peer_binary


def test_monitors_scale_bench_reports_rate_lateness_memory_disk_and_api(capsys):
    peer_binary("nginx")
    monitors_scale.main(
        ["--monitors", "50", "--interval", "2", "--warmup", "2", "--window", "4", "--history-monitors", "2"]
    )
    out = capsys.readouterr().out
    assert "lateness vs grid slot" in out
    assert "API while probing" in out
    assert "RESULT 50 monitors" in out
    assert "RSS per process" in out
    assert "steady state at 100,000 monitors" in out
    assert "pruning while probing" in out
