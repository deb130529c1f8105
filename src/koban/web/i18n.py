"""The pages' two languages and the viewer's time zone.

Messages are Babel catalogues (``web/locale/<lang>/LC_MESSAGES/messages.po``, English ids), read
once per process and compiled in memory: no build step, and a missing translation shows English.
The language is the signed-in person's ``language`` (from config), else the browser's
``Accept-Language``, else English. Times are shown in the person's ``timezone`` (UTC before login).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from gettext import NullTranslations
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

# Which language a tag or a browser asks for is one rule for the pages and the outbound messages
# alike (a signed link's page has no person but a browser): it lives with the outbound catalogue.
from koban.core.i18n import from_accept_language, known

LANGUAGES = ("en", "ja")
DEFAULT = "en"


def pick(person_language: str | None, accept_language: str) -> str:
    """The person's language, else the browser's, else English."""
    if person_language and (lang := known(person_language)) is not None:
        return lang
    return from_accept_language(accept_language) or DEFAULT


@cache
def translations(lang: str) -> NullTranslations:
    if lang not in LANGUAGES:
        return NullTranslations()
    item = files("koban.web").joinpath("locale", lang, "LC_MESSAGES", "messages.po")
    with item.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def gettext_for(lang: str) -> Callable[..., str]:
    """``_("Acknowledge")`` or ``_("%(n)s incidents", n=3)``: the text in ``lang``, filled in."""
    tr = translations(lang)

    def _(message: str, **values: Any) -> str:
        text = tr.gettext(message)
        return text % values if values else text

    return _


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_time(ts: float | None, lang: str, tz: ZoneInfo) -> str:
    """A stored timestamp as the viewer reads it: their zone, their language's format."""
    if not ts:
        return ""
    return format_datetime(datetime.fromtimestamp(ts, UTC), "medium", tzinfo=tz, locale=lang)


def format_short(ts: float, lang: str, tz: ZoneInfo, step: str = "minute") -> str:
    """A graph's axis time: the date alone for daily windows, else date and minutes."""
    when = datetime.fromtimestamp(ts, UTC)
    if step == "day":
        return format_date(when.astimezone(tz), "medium", locale=lang)
    return format_datetime(when, "short", tzinfo=tz, locale=lang)


def format_ms(seconds: float) -> str:
    """A response time: whole milliseconds, or tenths below 10 ms (a loopback probe)."""
    if seconds >= 0.01 or seconds == 0:
        return f"{seconds * 1000:,.0f} ms"
    return f"{seconds * 1000:.1f} ms"


def format_duration(seconds: float, lang: str) -> str:
    """``1 h 2 min 5 s`` / ``1時間2分5秒``: exact to the second (time to wake is read to the second)."""
    total = max(0, round(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    units = ("時間", "分", "秒") if lang == "ja" else (" h", " min", " s")
    parts = [f"{v}{u}" for v, u in zip((h, m, s), units, strict=True) if v]
    return ("" if lang == "ja" else " ").join(parts) or f"0{units[2]}"


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "extract, translate later"
    """Marks a message the templates pick at run time (a state, a severity), for extraction."""
    return message


WORDS = (
    *(N_("open"), N_("triggered"), N_("acknowledged"), N_("resolved"), N_("all")),
    *(N_("critical"), N_("error"), N_("warning"), N_("info")),
    *(N_("Not allowed"), N_("Not found"), N_("Error")),
    *(N_("first_failure"), N_("first_page"), N_("first_reached"), N_("acknowledged")),
    *(N_("up"), N_("down"), N_("unknown")),
    *(N_("final"), N_("overrides"), N_("gap"), N_("replace"), N_("add"), N_("remove")),
    *(N_("response"), N_("wake"), N_("interruptions"), N_("on-call"), N_("availability")),
    *(N_("service"), N_("team"), N_("person"), N_("severity"), N_("day"), N_("week"), N_("month")),
    *(N_("DNS"), N_("connect"), N_("TLS"), N_("first byte"), N_("transfer")),
    *(N_("viewer"), N_("responder"), N_("manager"), N_("admin")),  # roles
    *(N_("read"), N_("respond"), N_("manage")),  # token scopes ("admin" above)
    # A delivery's states (paging/delivery_rules.py), on the channels page.
    *(N_("pending"), N_("sending"), N_("sent"), N_("awaiting"), N_("reached"), N_("not_reached")),
    *(N_("failed"), N_("canceled"), N_("in_doubt")),
)
