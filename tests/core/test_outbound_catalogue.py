"""Every outbound message (voice, SMS, Slack, email, notices, reports, digests) is in the Japanese
``outbound`` catalogue: translated, once, with the placeholders of its English id."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from koban.core import i18n
from tests.support.catalogues import entries_without_translation_line

SRC = Path(i18n.__file__).parent.parent
PO = Path(i18n.__file__).parent / "locale" / "ja" / "LC_MESSAGES" / "outbound.po"
KEYWORDS = {"M_": None, "tr": (2,), "trn": (2, 3), "_": None}  # `_`: in the email bodies' templates


def _extracted() -> set[str]:
    # The web's own catalogue (web/locale, `_` and `N_`) is apart: its pages are not scanned here.
    methods = [("web/**", "ignore"), ("**.py", "python"), ("channels/**/templates/**.j2", "jinja2")]
    found = extract_from_dir(str(SRC), methods, keywords=KEYWORDS, comment_tags=())
    ids: set[str] = set()
    for _, _, msg, _, _ in found:
        ids.add(msg[0] if isinstance(msg, tuple) else msg)  # a plural's catalogue key is its singular
    return ids


def _catalogue() -> dict[str, object]:
    with PO.open("rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in read_po(f) if m.id}


def _fields(text: str) -> set[str]:
    if "{{" in text or "{%" in text:  # a Jinja2 template (voice): its variables, not format fields
        return set(re.findall(r"{{\s*(\w+)", text))
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_outbound_message_the_code_uses_is_translated_into_japanese() -> None:
    ja = _catalogue()
    used = _extracted()
    assert "Acknowledged. Thank you." in used, "extraction found no voice phrase: M_/tr moved?"
    missing = sorted(m for m in used if not ja.get(m))
    assert missing == [], "add them to core/locale/ja/LC_MESSAGES/outbound.po (docs/architecture.md)"


def test_the_catalogue_holds_no_message_the_code_no_longer_uses() -> None:
    unused = sorted(set(_catalogue()) - _extracted())
    assert unused == []


def test_a_translation_keeps_the_placeholders_of_its_id() -> None:
    with PO.open("rb") as f:
        entries = [m for m in read_po(f) if m.id]
    wrong = []
    for m in entries:
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        texts = m.string if isinstance(m.string, tuple) else (m.string,)
        if any(_fields(t) != _fields(ids[-1]) for t in texts if t):
            wrong.append(ids[0])
    assert wrong == []


def test_no_message_is_in_the_catalogue_twice() -> None:
    # Catalogues merged from two branches can keep both copies of an entry: one of them is dead.
    lines = PO.read_text().splitlines()
    ids = [line for line in lines if line.startswith("msgid ") and line != 'msgid ""']
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    long_ids = [m for m in _catalogue()]
    assert len(long_ids) == len(set(long_ids))


def test_every_catalogue_entry_has_a_translation_line() -> None:
    assert entries_without_translation_line(PO) == []


JA_ACK = "確認済みにしました。ありがとうございます。"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("ja-JP", JA_ACK), ("ja_jp", JA_ACK), ("ja", JA_ACK), ("en-US", None), ("fr-FR", None), (None, None)],
)
def test_a_message_reads_in_the_persons_language_else_english(lang: str | None, expected: str | None) -> None:
    assert i18n.tr(lang, "Acknowledged. Thank you.") == (expected or "Acknowledged. Thank you.")


def test_counts_and_fields_are_filled_in() -> None:
    assert i18n.trn("en", "{n} day", "{n} days", 2) == "2 days"
    assert i18n.trn("ja", "{n} day", "{n} days", 1) == "1日"
    assert i18n.tr("ja", "#{id}: no such incident.", id="7") == "#7: そのインシデントはありません。"


def test_a_said_sentence_keeps_its_english_and_writes_its_parts_in_the_readers_language() -> None:
    step = i18n.Said.of("step {step}, round {round}", step=2, round=3)
    said = i18n.Said.of("already escalated to {where} by {who}", where=step, who="bob")
    assert said.english() == str(said) == "already escalated to step 2, round 3 by bob"
    assert said.text("ja-JP") == "すでに bob さんがステップ 2 (第 3 周)へエスカレーションしています"
