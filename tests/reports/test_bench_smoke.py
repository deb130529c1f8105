"""bench/reports_scale.py still runs end to end (tiny sizes; the figures are not checked)."""

from __future__ import annotations

import pytest

from bench import reports_scale


@pytest.mark.parametrize("rollups", ["day", "minute"])
def test_reports_bench_prints_a_time_for_every_report(capsys, rollups):
    tiny = ["--incidents", "50", "--monitors", "2", "--days", "2", "--schedules", "3"]
    assert reports_scale.main([*tiny, "--rollups", rollups]) == 0
    out = capsys.readouterr().out
    for name in ("response", "wake", "interruptions", "on-call", "availability"):
        assert f"RESULT report={name} " in out
    assert "made the facts of 50 incidents" in out and "configured 3 schedules" in out
