"""What koban says about schedules, in the reader's language (pure): English and Japanese.

Used for the notices of paging/schedule_notices.py (handoffs, coverage gaps) and of the swaps
(paging/schedule_swaps.py). ``lang`` is a person's ``language`` (``ja-JP``, ``en-US``); only its
first part counts and anything but Japanese reads English. Times are shown in the schedule's zone
and named, so a reader in another zone is not misled. The first line is the headline (a mail's
subject, a Slack message's text); details follow on the next lines.
"""

from __future__ import annotations

from koban.core.i18n import M_, base, tr
from koban.core.local_time import local, zone

# A time is formatted here, per language (a date format, not a message); the words are the
# outbound catalogue's (core/i18n.py).
_JA_DAYS = "月火水木金土日"
# A swap's state as a decision reads: "was taken by bob" / "bob さんにより引き受けられました".
_STATES = {"taken": M_("taken"), "approved": M_("approved"), "declined": M_("declined"),
           "canceled": M_("canceled")}  # fmt: skip


def is_ja(lang: str | None) -> bool:
    return base(lang) == "ja"


def when(t: float, tz: str, lang: str | None) -> str:
    w = local(t, zone(tz))
    if is_ja(lang):
        return f"{w.month}月{w.day}日({_JA_DAYS[w.weekday()]}) {w:%H:%M} ({tz})"
    return f"{w:%a %d %b %H:%M} ({tz})"


def handoff(lang: str | None, schedule: str, start: float, tz: str, incidents: list[str] | None) -> str:
    """To the incoming person; ``incidents``: the open ones of the team (None: no summary asked)."""
    at = when(start, tz, lang)
    text = tr(lang, "You are on call in {schedule} from {start}", schedule=schedule, start=at)
    if incidents is not None:
        listed = tr(lang, "; ").join(incidents) if incidents else tr(lang, "none")
        text += "\n" + tr(lang, "Open incidents: {incidents}", incidents=listed)
    return text


def gap(lang: str | None, schedule: str, start: float, end: float, tz: str) -> str:
    return tr(
        lang,
        "{schedule}: nobody is on call from {start} to {end}",
        schedule=schedule,
        start=when(start, tz, lang),
        end=when(end, tz, lang),
    )


def swap_requested(
    lang: str | None, requester: str, schedule: str, swap: int, start: float, end: float, tz: str, note: str
) -> str:
    text = tr(
        lang,
        "{requester} asks you to take their {schedule} shift (swap {swap}): {start} to {end}",
        requester=requester,
        schedule=schedule,
        swap=swap,
        start=when(start, tz, lang),
        end=when(end, tz, lang),
    )
    return text + ("\n" + tr(lang, "Note: {note}", note=note) if note else "")


def swap_decided(
    lang: str | None, swap: int, schedule: str, requester: str, taker: str | None, state: str, by: str
) -> str:
    word = _STATES.get(state)
    return tr(
        lang,
        "Swap {swap} of {schedule} ({requester} -> {taker}) was {state} by {by}",
        swap=swap,
        schedule=schedule,
        requester=requester,
        taker=taker or tr(lang, "anyone"),
        state=tr(lang, word) if word else state,
        by=by,
    )
