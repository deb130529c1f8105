from datetime import timedelta

import pytest

from koban.channels.voice.script import humanize_duration, key_phrase, normalize_language, render_message
from koban.channels.voice.twiml import page_document
from tests.channels.voice.support import T0, make_incident, make_notification

NOW = T0 + timedelta(minutes=65)


def test_english_message_names_service_host_summary_severity_and_age():
    speech, problem = render_message(make_notification(language="en-US"), NOW)
    assert speech.text == (
        "Alert from koban. critical incident on db, host db-1: Disk full. Started 1 hour 5 minutes ago."
    )
    assert (speech.language, speech.voice, problem) == ("en-US", "Polly.Joanna", None)


def test_japanese_message_is_spoken_by_a_japanese_voice_with_translated_words():
    speech, _ = render_message(make_notification(language="ja"), NOW)
    assert speech.language == "ja-JP" and speech.voice == "Polly.Mizuki"
    assert "緊急" in speech.text and "db-1" in speech.text and "1時間5分" in speech.text


def test_a_custom_template_per_language_is_used():
    config = {"voice_template": {"ja-JP": "{{ service }} で障害: {{ summary }}", "en-US": "{{ summary }}!"}}
    ja, _ = render_message(make_notification(language="ja-JP", config=config), NOW)
    en, _ = render_message(make_notification(language="en-US", config=config), NOW)
    assert ja.text == "db で障害: Disk full" and en.text == "Disk full!"


def test_a_template_that_breaks_out_of_the_sandbox_falls_back_to_the_default_and_says_why():
    config = {"voice_template": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}
    speech, problem = render_message(make_notification(config=config), NOW)
    assert speech.text.startswith("Alert from koban.") and "SecurityError" in (problem or "")


def test_unknown_languages_fall_back_to_english():
    assert normalize_language("fr-FR") == "en-US" and normalize_language("JA_jp") == "ja-JP"


@pytest.mark.parametrize(
    ("seconds", "en", "ja"),
    [
        (30, "less than a minute", "1分未満"),
        (60, "1 minute", "1分"),
        (90061, "1 day 1 hour 1 minute", "1日1時間1分"),
    ],
)
def test_durations_are_said_naturally(seconds, en, ja):
    assert humanize_duration(seconds, "en-US") == en and humanize_duration(seconds, "ja-JP") == ja


def test_page_document_gathers_one_key_over_message_and_menu_then_redirects():
    speech, _ = render_message(make_notification(incident=make_incident(summary="a < b & c")), NOW)
    xml = page_document(speech, gather_url="https://x/g?t=1", repeat_url="https://x/t?t=2", gather_timeout=6)
    assert '<Gather action="https://x/g?t=1" input="dtmf" method="POST" numDigits="1" timeout="6">' in xml
    assert "a &lt; b &amp; c" in xml and "Press 1 to acknowledge" in xml
    assert xml.endswith('<Redirect method="POST">https://x/t?t=2</Redirect></Response>')


def test_last_play_hangs_up_after_saying_goodbye_in_the_persons_language():
    speech, _ = render_message(make_notification(language="ja-JP"), NOW)
    xml = page_document(speech, gather_url="https://x/g", repeat_url=None, gather_timeout=6)
    assert "キーが押されなかったため" in xml and xml.endswith("<Hangup /></Response>")
    assert 'voice="Polly.Mizuki"' in xml and 'language="ja-JP"' in xml


def test_a_calendar_task_is_spoken_as_a_task_with_start_and_done_keys():
    task = make_incident(summary="Backup check", details={"kind": "task"})
    speech, _ = render_message(make_notification(incident=task), NOW)
    assert speech.text == "A task from koban on db: Backup check. Nobody has started it yet."
    xml = page_document(speech, gather_url="https://x/g", repeat_url=None, gather_timeout=6)
    assert "Press 1 to start the task" in xml and "3 when it is done" in xml and "acknowledge" not in xml
    ja, _ = render_message(make_notification(incident=task, language="ja-JP"), NOW)
    assert "作業" in ja.text and "作業を開始する場合は1" in page_document(
        ja, gather_url="g", repeat_url=None, gather_timeout=6
    )
    assert key_phrase("en-US", "resolve", ja.words) == "Marked as done."
    assert key_phrase("en-US", "resolve") == "Marked as resolved."
