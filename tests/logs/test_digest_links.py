"""Every row of a digest links to Discover with that row's time range and query: each level, the peak
hour, each pattern (new ones and movers too); the Slack post and the email carry them."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

from koban.config.model_logs import Digest
from koban.logs.links import pattern_query, row_links
from koban.logs.render import Rendered, email_parts, slack_message
from koban.logs.summary import Pattern, Summary
from koban.logs.trends import Mover
from koban.logs.windows import Window

WINDOW = Window(datetime(2026, 3, 9, 15, tzinfo=UTC), datetime(2026, 3, 10, 15, tzinfo=UTC))
DIGEST = Digest.model_validate({
    "id": "d", "cluster": "c", "index": "logs-*", "levels": ["FATAL", "WARNING"], "filter": "service:shop",
    "schedule": {"cron": "0 9 * * *", "timezone": "Asia/Tokyo"}, "channels": ["s"],
})  # fmt: skip
PATTERN = "payment <N> failed for user <Q>"
SUMMARY = Summary(
    window_start="2026-03-10T00:00:00+09:00", window_end="2026-03-11T00:00:00+09:00", total=30,
    levels={"FATAL": 10, "WARNING": 20}, per_hour=1.25, peak_hour="2026-03-10T09:00:00+09:00", peak_count=7,
    patterns=[Pattern(PATTERN, 10, "2026-03-10T00:00:00+09:00", "2026-03-10T09:00:00+09:00",
                      "payment 12 failed for user 'ann'")],
    new_patterns=["disk <N>% full"], movers=[Mover("cache miss for <ID>", 9, 1.0, 8.0)],
)  # fmt: skip


def test_a_patterns_query_keeps_the_words_its_masking_left_on_the_text_field():
    assert pattern_query("message.keyword", PATTERN, "x") == 'message:"payment" AND message:"failed for user"'
    assert pattern_query("msg", PATTERN, 'say "hi"') == 'msg:"say \\"hi\\""'  # no text field: the example
    assert pattern_query("message.keyword", "<N>", "42") == 'message.keyword:"42"'


def test_each_row_has_its_own_time_range_and_query():
    made = row_links("https://dash", "opensearch", DIGEST, WINDOW, SUMMARY)
    links = {k: unquote(v) for k, v in made.items()}
    assert set(links) == {
        "level:FATAL", "level:WARNING", "peak", f"pattern:{PATTERN}", "pattern:disk <N>% full",
        "pattern:cache miss for <ID>",
    }  # fmt: skip
    assert 'level:"FATAL"' in links["level:FATAL"] and "service:shop" in links["level:FATAL"]
    assert "from:'2026-03-09T15:00:00Z',to:'2026-03-10T15:00:00Z'" in links["level:WARNING"]
    assert "from:'2026-03-10T00:00:00Z',to:'2026-03-10T01:00:00Z'" in links["peak"]  # 09:00 JST
    assert 'message:"failed for user"' in links[f"pattern:{PATTERN}"]
    assert row_links("", "opensearch", DIGEST, WINDOW, SUMMARY) == {}


def test_the_slack_post_and_the_email_link_every_row():
    from dataclasses import replace

    s = replace(SUMMARY, links=row_links("https://dash", "elasticsearch", DIGEST, WINDOW, SUMMARY))
    msg = slack_message("shop", s, "en", "https://dash/all")
    sections = [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"]
    assert all(len(x) <= 3000 for x in sections)
    text = "\n".join(sections)
    rows = ("FATAL: 10", "WARNING: 20", "busiest hour", "10 x `payment", "`disk &lt;N&gt;% full`")
    rows += ("+8: `cache",)
    for row in rows:
        line = next(x for x in text.splitlines() if row in x)
        assert line.endswith("|Discover>") and "https://dash/app/discover#/" in line, line
    _, plain, html = email_parts(Rendered("shop", s, "ja", "https://dash/all", "d", 1))
    assert html.count(">Discover</a>") == 3  # two levels and the pattern
    assert "Discover>" not in plain


def test_log_text_in_slack_notifies_nobody_and_shows_as_written():
    from dataclasses import replace

    from koban.logs.render import mrkdwn

    loud = Pattern("<!channel> deploy <N> & <@U123>", 3, SUMMARY.window_start, SUMMARY.window_end, "x")
    s = replace(SUMMARY, patterns=[loud], new_patterns=[], movers=[], links={})
    text = slack_message("a <b> & c", s, "en", "")["text"]
    assert "<!channel>" not in text and "<@U123>" not in text and "<b>" not in text
    assert "`&lt;!channel&gt; deploy &lt;N&gt; &amp; &lt;@U123&gt;`" in text
    assert mrkdwn("a&b<c>") == "a&amp;b&lt;c&gt;"
