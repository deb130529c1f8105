"""bench/log_digest.py still runs end to end at a tiny size against the test node (figures not checked)."""

from __future__ import annotations

import secrets

from bench import log_digest


def test_the_log_digest_bench_indexes_a_day_and_times_its_digest(opensearch_url, capsys):
    argv = ["--url", opensearch_url, "--docs", "400", "--messages", "50", "--rounds", "1", "--batch", "150",
            "--index", f"bench-digest-{secrets.token_hex(4)}"]  # fmt: skip
    assert log_digest.main(argv) == 0
    out = capsys.readouterr().out
    assert "indexed 400 documents" in out and "MISMATCH" not in out
    # 50 messages, 10 patterns once numbers are masked, which cover the whole day
    assert "400 documents, 10 patterns listed covering 400 documents" in out
    assert "RESULT digest over 400 documents (50 messages): 1 rounds" in out
