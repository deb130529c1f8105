"""Schedule messages read in the person's language: Japanese for ja-*, English otherwise, times in
the schedule's zone and named (schedules/wording.py)."""

from __future__ import annotations

from koban.schedules import wording
from tests.schedules.factories import utc

NINE_TOKYO = utc(2027, 1, 14, 0)  # Thursday 09:00 in Tokyo


def test_a_handoff_reads_in_japanese_for_a_japanese_reader_with_the_open_incidents():
    text = wording.handoff("ja-JP", "ops", NINE_TOKYO, "Asia/Tokyo", ["#3 disk full"])
    assert text == (
        "ops のオンコール担当が 1月14日(木) 09:00 (Asia/Tokyo) からあなたになります"
        "\n対応中のインシデント: #3 disk full"
    )
    assert wording.handoff("ja", "ops", NINE_TOKYO, "Asia/Tokyo", []).endswith("対応中のインシデント: なし")


def test_a_handoff_reads_in_english_otherwise_and_without_a_summary_when_none_was_asked():
    text = wording.handoff("en-US", "ops", NINE_TOKYO, "Asia/Tokyo", None)
    assert text == "You are on call in ops from Thu 14 Jan 09:00 (Asia/Tokyo)"
    assert wording.handoff("fr-FR", "ops", NINE_TOKYO, "Asia/Tokyo", None) == text


def test_gap_and_swap_messages_in_both_languages():
    end = NINE_TOKYO + 9 * 3600
    assert "オンコール担当がいません" in wording.gap("ja", "ops", NINE_TOKYO, end, "Asia/Tokyo")
    assert wording.gap("en", "ops", NINE_TOKYO, end, "Asia/Tokyo") == (
        "ops: nobody is on call from Thu 14 Jan 09:00 (Asia/Tokyo) to Thu 14 Jan 18:00 (Asia/Tokyo)"
    )
    asked = wording.swap_requested("ja-JP", "bob", "ops", 7, NINE_TOKYO, end, "Asia/Tokyo", "法事のため")
    assert asked.startswith("bob さんから ops のシフト交代の依頼です (交代 7)") and asked.endswith(
        "メモ: 法事のため"
    )
    assert wording.swap_decided("ja", 7, "ops", "bob", "alice", "taken", "alice").endswith(
        "alice さんにより引き受けられました"
    )
    assert wording.swap_decided("en", 7, "ops", "bob", None, "canceled", "bob") == (
        "Swap 7 of ops (bob -> anyone) was canceled by bob"
    )
