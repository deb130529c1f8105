"""bench/soak.py still runs end to end (seconds, tiny sizes; the figures are not checked)."""

from __future__ import annotations

from bench import soak
from tests.support.peers import peer_binary

TINY = ["--minutes", "0.25", "--monitors", "20", "--interval", "5", "--probers", "1"]
TINY += ["--rate-1", "20", "--rate-100", "200", "--pages", "2", "--escalate-after", "2"]
TINY += ["--resolve-after", "4", "--api-rate", "2", "--baseline-minutes", "0.05", "--report-every", "5"]


def test_soak_reports_memory_pages_errors_and_disk_each_interval_and_at_the_end(capsys):
    peer_binary("nginx")
    soak.main(TINY)
    out = capsys.readouterr().out
    assert "minute " in out
    assert "ingest flood1:" in out
    assert "ingest flood100:" in out
    assert "RSS koban-1" in out
    assert "prober-1" in out
    assert "still queued (0 lost)" in out
    assert "RESULT soak" in out
    assert "predicted" in out
    assert "calls reached the Twilio simulator" in out
