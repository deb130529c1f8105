"""A digest summary as a Slack message, an HTML email or a webhook document, in English or Japanese.
Pure. The HTML is built with escaping for every value (messages come from logs: anything goes)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from koban.core.i18n import M_, tr
from koban.logs.summary import Summary

# The words by name, their English text the outbound catalogue's id (core/i18n.py).
_TEXT = {
    "title": M_("Logs digest {name}: {start} - {end}"),
    "total": M_("{total} entries, {per_hour} per hour on average"),
    "peak": M_("busiest hour: {hour} ({count})"),
    "level": M_("{level}: {count}"),
    "patterns": M_("Top messages"),
    "pattern": M_("{count} x `{pattern}` (first {first}, last {last})"),
    "link": M_("Open in Discover"),
    "new": M_("New patterns (not seen in the previous {days} days)"),
    "movers": M_("Biggest changes against the median of the last {weeks} weeks (same weekday)"),
    "mover": M_("{change:+g}: `{pattern}` ({count}, usually {median:g})"),
}


def _words(language: str) -> dict[str, str]:
    return {key: tr(language, text) for key, text in _TEXT.items()}


def _hm(iso: str) -> str:
    return iso[:16].replace("T", " ")


@dataclass(frozen=True, slots=True)
class Rendered:
    """Everything a post needs, whatever the channel's form."""

    name: str
    summary: Summary
    language: str
    link: str
    digest_id: str
    run_id: int
    new_days: int = 7
    weeks: int = 4


def _trend_rows(s: Summary, t: dict[str, str], new_days: int, weeks: int) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if s.new_patterns:
        rows.append((t["new"].format(days=new_days), ""))
        rows += [(f"`{p}`", f"pattern:{p}") for p in s.new_patterns]
    if s.movers:
        rows.append((t["movers"].format(weeks=weeks), ""))
        rows += [
            (
                t["mover"].format(change=m.change, pattern=m.pattern, count=m.count, median=m.median),
                f"pattern:{m.pattern}",
            )
            for m in s.movers
        ]
    return rows


def _trend_lines(s: Summary, t: dict[str, str], new_days: int, weeks: int) -> list[str]:
    return [line for line, _ in _trend_rows(s, t, new_days, weeks)]


def _rows(name: str, s: Summary, t: dict[str, str], new_days: int, weeks: int) -> list[tuple[str, str]]:
    """The digest's lines, each with the key of its row's Discover link ("" for none)."""
    rows = [
        (t["title"].format(name=name, start=_hm(s.window_start), end=_hm(s.window_end)), ""),
        (t["total"].format(total=s.total, per_hour=s.per_hour), ""),
        *((t["level"].format(level=lv, count=n), f"level:{lv}") for lv, n in s.levels.items()),
    ]
    if s.peak_hour:
        rows.append((t["peak"].format(hour=_hm(s.peak_hour), count=s.peak_count), "peak"))
    if s.patterns:
        rows.append((t["patterns"], ""))
        rows += [
            (
                t["pattern"].format(
                    count=p.count, pattern=p.pattern, first=_hm(p.first_seen), last=_hm(p.last_seen)
                ),
                f"pattern:{p.pattern}",
            )
            for p in s.patterns
        ]
    return rows + _trend_rows(s, t, new_days, weeks)


def text_lines(name: str, s: Summary, language: str, new_days: int = 7, weeks: int = 4) -> list[str]:
    """The digest as plain lines (the email's text part)."""
    t = _words(language)
    return [line for line, _ in _rows(name, s, t, new_days, weeks)]


def mrkdwn(text: str) -> str:
    """Text for Slack's mrkdwn: its control characters escaped, so that a pattern's ``<N>`` shows as
    written and a log message's ``<!channel>`` or ``<@U123>`` notifies nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_lines(
    name: str, s: Summary, language: str, link: str, new_days: int = 7, weeks: int = 4
) -> list[str]:
    """The digest for Slack: escaped, each row followed by its own Discover link, then the digest's."""
    t = _words(language)
    lines = []
    for line, key in _rows(name, s, t, new_days, weeks):
        url = s.links.get(key) if key else None
        lines.append(mrkdwn(line) + (f" <{url}|Discover>" if url else ""))
    if link:
        lines.append(f"<{link}|{t['link']}>")
    return lines


def slack_message(
    name: str, s: Summary, language: str, link: str, new_days: int = 7, weeks: int = 4
) -> dict[str, Any]:
    lines = slack_lines(name, s, language, link, new_days, weeks)
    title = _rows(name, s, _words(language), new_days, weeks)[0][0]
    return {
        "text": "\n".join(lines)[:SLACK_TEXT],
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},  # plain: not escaped
            *({"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in _sections(lines[1:])),
        ],
    }


SLACK_SECTION = 3000  # Slack's limit on a section block's text
SLACK_TEXT = 40000  # and on a message's text


def _sections(lines: list[str]) -> list[str]:
    """The lines in as few sections as Slack allows (each row's link makes them long), at most 49
    after the header (Slack takes 50 blocks)."""
    chunks: list[str] = []
    for line in (x[:SLACK_SECTION] for x in lines):
        if chunks and len(chunks[-1]) + 1 + len(line) <= SLACK_SECTION:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return chunks[:49]


def webhook_document(digest_id: str, run_id: int, s: Summary, link: str) -> dict[str, Any]:
    return {"type": "koban.digest", "digest": digest_id, "run": run_id, "link": link, **s.as_json()}


def _anchor(url: str | None) -> str:
    return f'<a href="{escape(url)}">Discover</a>' if url else ""


def email_parts(r: Rendered) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the digest email."""
    t = _words(r.language)
    lines = text_lines(r.name, r.summary, r.language, r.new_days, r.weeks)
    text = "\n".join(lines[1:]) + (f"\n\n{t['link']}: {r.link}\n" if r.link else "\n")
    s = r.summary
    rows = "".join(
        f'<tr><td>{escape(lv)}</td><td style="text-align:right">{n}</td>'
        f"<td>{_anchor(s.links.get(f'level:{lv}'))}</td></tr>"
        for lv, n in s.levels.items()
    )
    patterns = "".join(
        f'<tr><td style="text-align:right">{p.count}</td><td><code>{escape(p.pattern)}</code></td>'
        f"<td>{escape(_hm(p.first_seen))}</td><td>{escape(_hm(p.last_seen))}</td>"
        f"<td>{_anchor(s.links.get(f'pattern:{p.pattern}'))}</td></tr>"
        for p in s.patterns
    )
    trends = "".join(f"<li>{escape(line)}</li>" for line in _trend_lines(s, t, r.new_days, r.weeks))
    link = f'<p><a href="{escape(r.link)}">{escape(t["link"])}</a></p>' if r.link else ""
    html = (
        f'<!doctype html><html lang="{escape(r.language)}"><body>'
        f"<h2>{escape(lines[0])}</h2><p>{escape(lines[1])}</p>"
        f"<table>{rows}</table>"
        + (f"<p>{escape(lines[len(s.levels) + 2])}</p>" if s.peak_hour else "")
        + (f"<h3>{escape(t['patterns'])}</h3><table>{patterns}</table>" if s.patterns else "")
        + (f"<ul>{trends}</ul>" if trends else "")
        + f"{link}</body></html>"
    )
    return lines[0], text, html
