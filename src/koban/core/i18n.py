"""What koban says to people outside the pages, in their language: the ``outbound`` catalogue.

Every outbound message (voice, SMS, Slack, email, schedule notices, reports, log digests) and every
error they show is an English id in ``core/locale/ja/LC_MESSAGES/outbound.po`` with its Japanese
text. The catalogue is read once per process and compiled in memory (no build step), as the web's
``messages`` catalogue is (web/i18n.py); English needs no catalogue, the ids are the English text.

Placeholders are ``str.format`` fields (``{service}``), as the tables they replaced used;
``tests/core/test_outbound_catalogue.py`` checks a translation keeps its id's fields. ``M_`` marks a
message picked at run time (a table's entry) so extraction finds it; ``tr(lang, "...")`` is found
as it is. Adding a message: docs/architecture.md, "Outbound messages".
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from gettext import NullTranslations
from importlib.resources import files
from typing import Any

from babel import Locale
from babel.core import UnknownLocaleError, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "outbound"
LANGUAGES = ("en", "ja")
MAX_ACCEPT = 512  # an Accept-Language longer than this is not a browser's


def base(lang: str | None) -> str:
    """``ja-JP`` / ``ja_jp`` / ``JA`` -> ``ja``; anything else reads English."""
    first = (lang or "").replace("_", "-").strip().lower().split("-")[0]
    return first if first in LANGUAGES else "en"


def known(tag: str) -> str | None:
    """``ja-JP`` / ``ja_JP`` / ``JA`` -> ``ja`` when koban speaks it, else None (web/i18n.py's pick)."""
    try:
        lang = Locale.parse(tag.strip().replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return None
    return lang if lang in LANGUAGES else None


def from_accept_language(header: str) -> str | None:
    """The browser's first language koban speaks, by its q-values."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header[:MAX_ACCEPT].split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and tag != "*" and q > 0:
            ranked.append((-q, i, tag))
    found = negotiate_locale([t for _, _, t in sorted(ranked)], list(LANGUAGES), sep="-")
    if found is None:
        found = next((b for _, _, t in sorted(ranked) if (b := known(t)) is not None), None)
    return found


@cache
def translations(lang: str) -> NullTranslations:
    if lang == "en" or lang not in LANGUAGES:
        return NullTranslations()
    item = files("koban.core").joinpath("locale", lang, "LC_MESSAGES", f"{DOMAIN}.po")
    with item.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def tr(lang: str | None, message: str, **values: Any) -> str:
    """``message`` in ``lang`` (a person's ``language``: only its first part counts), filled in
    with ``str.format`` when values are given. A missing translation reads English."""
    text = translations(base(lang)).gettext(message)
    return text.format(**values) if values else text


def trn(lang: str | None, singular: str, plural: str, n: int, **values: Any) -> str:
    """A message with a count (``{n} day`` / ``{n} days``), filled in with ``n`` and ``values``."""
    return translations(base(lang)).ngettext(singular, plural, n).format(n=n, **values)


def joiner(lang: str | None) -> str:
    """Between the parts of a phrase built from pieces: Japanese writes no space between them."""
    return "" if base(lang) == "ja" else " "


def M_(message: str) -> str:  # noqa: N802 - gettext's N_, named apart from the web's catalogue
    """Marks an outbound message a table picks at run time, for extraction."""
    return message


@dataclass(frozen=True, slots=True)
class Said:
    """A sentence kept as its English id and its values, so it can be written in each reader's
    language later: why an action was refused or what it did (``ActionResult``). Pure code makes it
    with an ``M_`` id; the timeline and the audit trail store ``english()``; each channel says
    ``text(lang)``. A value may itself be a ``Said`` (a step, a reason): it is written in the same
    language."""

    message: str
    values: tuple[tuple[str, str | int | Said], ...] = ()

    @classmethod
    def of(cls, message: str, **values: str | int | Said) -> Said:
        return cls(message, tuple(values.items()))

    def text(self, lang: str | None) -> str:
        filled = {k: v.text(lang) if isinstance(v, Said) else v for k, v in self.values}
        return tr(lang, self.message, **filled) if filled else tr(lang, self.message)

    def english(self) -> str:
        return self.text("en")

    def __str__(self) -> str:
        return self.english()
