"""The pages' language and times: the person's language, else the browser's, else English; every
message the pages use is in the Japanese catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from koban.web import i18n
from tests.support.catalogues import entries_without_translation_line

WEB = Path(i18n.__file__).parent


@pytest.mark.parametrize(
    ("person", "accept", "expected"),
    [
        ("ja-JP", "en-US,en;q=0.9", "ja"),  # the person's choice wins over the browser's
        ("en-US", "ja", "en"),
        (None, "ja,en-US;q=0.9", "ja"),
        (None, "fr-FR, ja;q=0.5, en;q=0.4", "ja"),  # the first language koban speaks, by q
        (None, "en-GB;q=0.3, ja-JP;q=0.8", "ja"),
        (None, "de-DE", "en"),
        (None, "", "en"),
        ("xx-not-a-language", "", "en"),
        (None, "ja;q=nonsense", "en"),
    ],
)
def test_the_language_is_the_persons_else_the_browsers_else_english(person, accept, expected) -> None:
    assert i18n.pick(person, accept) == expected


def test_times_are_shown_in_the_viewers_zone_and_language() -> None:
    ts = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
    assert i18n.format_time(ts, "ja", i18n.zone("Asia/Tokyo")) == "2023/11/15 7:13:20"
    assert i18n.format_time(ts, "en", i18n.zone("UTC")) == "Nov 14, 2023, 10:13:20\u202fPM"
    assert i18n.zone("Not/AZone").key == "UTC" and i18n.format_time(None, "en", i18n.zone(None)) == ""


def _extracted() -> set[str]:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    found = extract_from_dir(str(WEB), method_map, keywords={"_": None, "N_": None})
    return {msg for _, _, msg, _, _ in found if isinstance(msg, str)}


def test_every_message_of_the_pages_is_translated_into_japanese() -> None:
    with (WEB / "locale" / "ja" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        ja = {m.id: m.string for m in read_po(f) if m.id}
    used = _extracted()
    assert used, "extraction found nothing: templates moved?"
    missing = sorted(m for m in used if not ja.get(m))
    assert missing == [], "add them to web/locale/ja/LC_MESSAGES/messages.po (see locale/babel.cfg)"
    assert i18n.gettext_for("ja")("Incident #%(id)s", id=7) == "インシデント #7"
    assert i18n.gettext_for("en")("Incident #%(id)s", id=7) == "Incident #7"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_no_message_is_in_a_catalogue_twice(lang: str) -> None:
    # Catalogues merged from two branches can keep both copies of an entry: one of them is dead.
    lines = (WEB / "locale" / lang / "LC_MESSAGES" / "messages.po").read_text().splitlines()
    ids = [line for line in lines if line.startswith("msgid ") and line != 'msgid ""']  # "": header, long ids
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_catalogue_entry_has_a_translation_line(lang: str) -> None:
    assert entries_without_translation_line(WEB / "locale" / lang / "LC_MESSAGES" / "messages.po") == []
