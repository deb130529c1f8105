"""bench/reports_scale.py still runs end to end (tiny sizes; the figures are not checked)."""

from __future__ import annotations

from bench import reports_scale


def test_reports_bench_prints_a_time_for_every_report(capsys):
    assert reports_scale.main(["--incidents", "50", "--monitors", "2", "--days", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("response", "wake", "interruptions", "on-call", "availability"):
        assert f"RESULT report={name} " in out
