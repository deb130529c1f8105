"""bench/log_rules.py still runs end to end at a tiny size against the test node (figures not checked)."""

from __future__ import annotations

from bench import log_rules


def test_the_log_rules_bench_measures_lag_and_log_line_to_page(opensearch_url, capsys):
    argv = ["--url", opensearch_url, "--rules", "5", "--interval", "2", "--seconds", "5", "--docs", "50",
            "--keys", "5", "--spread", "--page-rounds", "1", "--page-interval", "2"]  # fmt: skip
    assert log_rules.main(argv) == 0
    out = capsys.readouterr().out
    assert "RESULT rule lag: 5 rules every 2 s" in out and ", 0 failed," in out
    assert "keys seen by r0: 5" in out  # the documents were counted (in their timeframe)
    assert "RESULT log line -> page with a 2 s interval: 1 rounds" in out
