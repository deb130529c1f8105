"""What koban says about schedules, in the reader's language (pure): English and Japanese.

Used for the notices of paging/schedule_notices.py (handoffs, coverage gaps) and of the swaps
(api/schedule_swaps.py). ``lang`` is a person's ``language`` (``ja-JP``, ``en-US``); only its
first part counts and anything but Japanese reads English. Times are shown in the schedule's zone
and named, so a reader in another zone is not misled. The first line is the headline (a mail's
subject, a Slack message's text); details follow on the next lines.
"""

from __future__ import annotations

from koban.core.local_time import local, zone

_JA_DAYS = "月火水木金土日"
_STATES_JA = {"taken": "引き受けられました", "approved": "承認されました", "declined": "断られました",
              "canceled": "取り消されました"}  # fmt: skip


def is_ja(lang: str | None) -> bool:
    return (lang or "").lower().split("-")[0] == "ja"


def when(t: float, tz: str, lang: str | None) -> str:
    w = local(t, zone(tz))
    if is_ja(lang):
        return f"{w.month}月{w.day}日({_JA_DAYS[w.weekday()]}) {w:%H:%M} ({tz})"
    return f"{w:%a %d %b %H:%M} ({tz})"


def handoff(lang: str | None, schedule: str, start: float, tz: str, incidents: list[str] | None) -> str:
    """To the incoming person; ``incidents``: the open ones of the team (None: no summary asked)."""
    if is_ja(lang):
        text = f"{schedule} のオンコール担当が {when(start, tz, lang)} からあなたになります"
        if incidents is not None:
            text += "\n対応中のインシデント: " + ("、".join(incidents) if incidents else "なし")
        return text
    text = f"You are on call in {schedule} from {when(start, tz, lang)}"
    if incidents is not None:
        text += "\nOpen incidents: " + ("; ".join(incidents) if incidents else "none")
    return text


def gap(lang: str | None, schedule: str, start: float, end: float, tz: str) -> str:
    if is_ja(lang):
        return (
            f"{schedule}: {when(start, tz, lang)} から {when(end, tz, lang)} まで"
            "オンコール担当がいません (シフトの空き)"
        )
    return f"{schedule}: nobody is on call from {when(start, tz, lang)} to {when(end, tz, lang)}"


def swap_requested(
    lang: str | None, requester: str, schedule: str, swap: int, start: float, end: float, tz: str, note: str
) -> str:
    if is_ja(lang):
        text = (
            f"{requester} さんから {schedule} のシフト交代の依頼です (交代 {swap}): "
            f"{when(start, tz, lang)} から {when(end, tz, lang)} まで"
        )
        return text + (f"\nメモ: {note}" if note else "")
    text = (
        f"{requester} asks you to take their {schedule} shift (swap {swap}): "
        f"{when(start, tz, lang)} to {when(end, tz, lang)}"
    )
    return text + (f"\nNote: {note}" if note else "")


def swap_decided(
    lang: str | None, swap: int, schedule: str, requester: str, taker: str | None, state: str, by: str
) -> str:
    if is_ja(lang):
        who = f"{requester} → {taker or '誰でも'}"
        return f"{schedule} のシフト交代 {swap} ({who}) は {by} さんにより{_STATES_JA.get(state, state)}"
    return f"Swap {swap} of {schedule} ({requester} -> {taker or 'anyone'}) was {state} by {by}"
