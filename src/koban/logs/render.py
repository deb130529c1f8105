"""A digest summary as a Slack message or a webhook document, in English or Japanese. Pure."""

from __future__ import annotations

from typing import Any

from koban.logs.summary import Summary

_TEXT = {
    "en": {
        "title": "Logs digest {name}: {start} - {end}",
        "total": "{total} entries, {per_hour} per hour on average",
        "peak": "busiest hour: {hour} ({count})",
        "level": "{level}: {count}",
        "patterns": "Top messages",
        "pattern": "{count} x `{pattern}` (first {first}, last {last})",
        "link": "Open in Discover",
    },
    "ja": {
        "title": "ログダイジェスト {name}: {start} 〜 {end}",
        "total": "合計 {total} 件、1時間あたり平均 {per_hour} 件",
        "peak": "最も多かった時間帯: {hour} ({count} 件)",
        "level": "{level}: {count} 件",
        "patterns": "多いメッセージ",
        "pattern": "{count} 件 `{pattern}` (最初 {first}、最後 {last})",
        "link": "Discover で開く",
    },
}


def _hm(iso: str) -> str:
    return iso[:16].replace("T", " ")


def text_lines(name: str, s: Summary, language: str, link: str) -> list[str]:
    t = _TEXT.get(language, _TEXT["en"])
    lines = [
        t["title"].format(name=name, start=_hm(s.window_start), end=_hm(s.window_end)),
        t["total"].format(total=s.total, per_hour=s.per_hour),
        *(t["level"].format(level=lv, count=n) for lv, n in s.levels.items()),
    ]
    if s.peak_hour:
        lines.append(t["peak"].format(hour=_hm(s.peak_hour), count=s.peak_count))
    if s.patterns:
        lines.append(t["patterns"])
        lines += [
            t["pattern"].format(
                count=p.count, pattern=p.pattern, first=_hm(p.first_seen), last=_hm(p.last_seen)
            )
            for p in s.patterns
        ]
    if link:
        lines.append(f"<{link}|{t['link']}>")
    return lines


def slack_message(name: str, s: Summary, language: str, link: str) -> dict[str, Any]:
    lines = text_lines(name, s, language, link)
    return {
        "text": "\n".join(lines),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": lines[0][:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines[1:])[:3000]}},
        ],
    }


def webhook_document(digest_id: str, run_id: int, s: Summary, link: str) -> dict[str, Any]:
    return {"type": "koban.digest", "digest": digest_id, "run": run_id, "link": link, **s.as_json()}
