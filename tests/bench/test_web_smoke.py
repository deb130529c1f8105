"""``python -m bench.web`` (issue 15's name for bench/web_pages.py) still runs end to end: a few
monitors, schedules and incidents, two requests a page; the figures are not checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_web_runs_the_web_pages_bench_and_prints_every_page():
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    args = ["--monitors", "50", "--schedules", "2", "--incidents", "20", "--requests", "2"]
    done = subprocess.run(
        [sys.executable, "-m", "bench.web", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for page in ("monitor list", "one monitor, 30 days", "on call now", "incidents", "one incident"):
        assert page in done.stdout
    assert "first page load" in done.stdout
    assert "load average" in done.stdout
