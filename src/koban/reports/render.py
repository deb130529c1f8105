"""A scheduled report as plain text, in English or Japanese. Pure.

One title line and a short block per report: the figures a team reads on Monday morning, with the
full tables left to ``GET /api/v1/reports/...`` and the web page. Durations read as ``4m 10s``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from koban.core.i18n import M_, tr

# The words by name, their English text the outbound catalogue's id (core/i18n.py).
WORDS: dict[str, str] = {
    "title": M_("koban {grain} report: {since} to {until} ({tz})"),
    "week": M_("weekly"),
    "month": M_("monthly"),
    "response": M_("Response"),
    "incidents": M_("incidents {n} ({trend} against the previous period), open {open}"),
    "tta": M_("time to acknowledge p50 {p50} / p90 {p90} / max {max} ({n} acknowledged)"),
    "ttr": M_("time to resolve p50 {p50} / p90 {p90} / max {max} ({n} resolved)"),
    "wake": M_("Time to wake"),
    "wake_line": M_("{stage} p50 {p50} / p90 {p90} ({n})"),
    "lead": M_("outage before the alert"),
    "first_page": M_("first page"),
    "first_reached": M_("first person reached"),
    "acknowledged": M_("acknowledged"),
    "before": M_("{n} of {total} incidents began before their alert"),
    "interruptions": M_("Interruptions (calls and SMS)"),
    "int_total": M_(
        "{n} interruptions: business hours {business}, evenings/weekends {evening_weekend}, sleep {sleep}"
    ),
    "int_person": M_("{name}: {n} (sleep {sleep}, nights woken {nights})"),
    "on-call": M_("On-call load"),
    "oncall_person": M_(
        "{name}: {hours} h on call (overrides {extra} h), share {share} (even {even}), nights woken {nights}"
    ),
    "oncall_gaps": M_("{schedule}: {hours} h uncovered in {n} gaps"),
    "availability": M_("Availability (target {target})"),
    "avail_service": M_("{service}: uptime {uptime}, down {down}, budget left {left}"),
    "none": M_("none"),
    "no_data": M_("no data"),
}


def words(lang: str) -> dict[str, str]:
    return {key: tr(lang, text) for key, text in WORDS.items()}


def duration(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "-"
    s = round(abs(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    units = ("時間", "分", "秒") if lang == "ja" else ("h", "m", "s")
    parts = [f"{v}{u}" for v, u in zip((h, m, sec), units, strict=True) if v]
    return ("-" if seconds < 0 else "") + (" ".join(parts) or ("0秒" if lang == "ja" else "0s"))


def percent(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v * 100:.{digits}f}%"


def _trend(v: float | None) -> str:
    return "-" if v is None else f"{v * 100:+.0f}%"


def _local(iso_at: str, tz: str) -> str:
    return datetime.fromisoformat(iso_at).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _response(r: Mapping[str, Any], w: Mapping[str, str], lang: str) -> list[str]:
    t = r["total"]

    def clock(name: str, key: str, n: int) -> str:
        c = t[name]
        d = {k: duration(c[k], lang) for k in ("p50", "p90", "max")}
        return "  " + w[key].format(n=n, **d)

    return [
        "  " + w["incidents"].format(n=t["incidents"], trend=_trend(r["trend"]["incidents"]), open=t["open"]),
        clock("time_to_acknowledge", "tta", t["acknowledged"]),
        clock("time_to_resolve", "ttr", t["resolved"]),
    ]


def _wake(r: Mapping[str, Any], w: Mapping[str, str], lang: str) -> list[str]:
    t = r["total"]
    out = [
        "  "
        + w["wake_line"].format(
            stage=w[s], p50=duration(t[s]["p50"], lang), p90=duration(t[s]["p90"], lang), n=t[s]["count"]
        )
        for s in ("lead", "first_page", "first_reached", "acknowledged")
    ]
    return [*out, "  " + w["before"].format(n=t["began_before_alert"], total=t["incidents"])]


def _interruptions(r: Mapping[str, Any], w: Mapping[str, str], lang: str) -> list[str]:
    t = r["total"]
    out = ["  " + w["int_total"].format(n=t["interruptions"], **{k: t[k] for k in _SLOTS})]
    for p in r["people"]:
        if p["interruptions"]:
            out.append(
                "  "
                + w["int_person"].format(
                    name=p["name"], n=p["interruptions"], sleep=p["sleep"], nights=p["nights_woken"]
                )
            )
    return out


_SLOTS = ("business", "evening_weekend", "sleep")


def _oncall(r: Mapping[str, Any], w: Mapping[str, str], lang: str) -> list[str]:
    """Each person over rotations and schedules together, then each schedule's uncovered hours."""
    out = [
        "  "
        + w["oncall_person"].format(
            name=p["name"],
            hours=p["hours"],
            extra=p.get("override_hours", 0),
            share=percent(p["share"], 1),
            even=percent(p["even_share"], 1),
            nights=p["nights_woken"],
        )  # fmt: skip
        for p in r["people"]
    ]
    out += [
        "  " + w["oncall_gaps"].format(schedule=s["schedule"], hours=s["gap_hours"], n=s["gaps_count"])
        for s in r["schedules"]
        if s["gaps_count"]
    ]
    return out or ["  " + w["none"]]


def _availability(r: Mapping[str, Any], w: Mapping[str, str], lang: str) -> list[str]:
    out = [
        "  "
        + w["avail_service"].format(
            service=s["service"],
            uptime=percent(s["uptime"]) if s["uptime"] is not None else w["no_data"],
            down=duration(s["down_seconds"], lang),
            left=duration(s["error_budget"]["remaining_seconds"], lang),
        )
        for s in r["services"]
    ]
    return out or ["  " + w["none"]]


SECTIONS: dict[str, Callable[[Mapping[str, Any], Mapping[str, str], str], list[str]]] = {
    "response": _response,
    "wake": _wake,
    "interruptions": _interruptions,
    "on-call": _oncall,
    "availability": _availability,
}


def title(grain: str, since_iso: str, until_iso: str, tz: str, lang: str) -> str:
    w = words(lang)
    return w["title"].format(grain=w[grain], since=_local(since_iso, tz), until=_local(until_iso, tz), tz=tz)


def render(reports: Sequence[Mapping[str, Any]], lang: str) -> str:
    """The body: one block per report, in the order given (each a ``reports.build`` answer)."""
    w = words(lang)
    lines: list[str] = []
    for r in reports:
        name = r["report"]
        head = w[name].format(target=percent(r.get("target"), 1)) if name == "availability" else w[name]
        lines += [head, *SECTIONS[name](r, w, lang), ""]
    return "\n".join(lines).rstrip() + "\n"
