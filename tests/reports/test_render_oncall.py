"""The on-call section of a scheduled report's text (``reports/render.py``): each person over rotations and
schedules together, with override hours and nights woken, then each schedule's uncovered hours."""

from __future__ import annotations

from koban.reports.render import render

REPORT = {
    "report": "on-call",
    "people": [
        {
            "name": "Alice",
            "hours": 120.0,
            "override_hours": 8.0,
            "share": 0.6,
            "even_share": 0.5,
            "nights_woken": 2,
        },
        {
            "name": "Bob",
            "hours": 80.0,
            "override_hours": 0.0,
            "share": 0.4,
            "even_share": 0.5,
            "nights_woken": 0,
        },
    ],
    "rotations": [],
    "schedules": [
        {"schedule": "primary", "gap_hours": 14.0, "gaps_count": 2},
        {"schedule": "secondary", "gap_hours": 0.0, "gaps_count": 0},
    ],
}


def test_people_and_a_schedules_gaps_are_written_in_english() -> None:
    text = render([REPORT], "en")
    assert "Alice: 120.0 h on call (overrides 8.0 h), share 60.0% (even 50.0%), nights woken 2" in text
    assert "Bob: 80.0 h on call (overrides 0.0 h)" in text
    assert "primary: 14.0 h uncovered in 2 gaps" in text
    assert "secondary" not in text  # no gap, no line


def test_the_same_section_in_japanese() -> None:
    text = render([REPORT], "ja")
    assert "Alice: 当番 120.0 時間 (うちオーバーライド 8.0 時間)" in text
    assert "夜間に起こされた日 2" in text
    assert "primary: 空き 2 件、計 14.0 時間" in text


def test_a_period_with_nobody_on_call_says_none() -> None:
    assert "none" in render([{**REPORT, "people": [], "schedules": []}], "en")
