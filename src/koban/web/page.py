"""The frame of koban's server-rendered pages: one stylesheet, no script, text always escaped."""

from __future__ import annotations

import html

from starlette.responses import HTMLResponse

STYLESHEET = "/static/koban.css"


def page(title: str, body: str, status: int = 200, *, lang: str = "en") -> HTMLResponse:
    """``body`` is trusted markup built by koban; every value in it went through ``esc``."""
    doc = (
        f"<!doctype html><html lang='{esc(lang)}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<link rel='stylesheet' href='{STYLESHEET}'><title>{esc(title)} · koban</title></head>"
        f"<body><main><h1>{esc(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(doc, status, headers={"cache-control": "no-store"})


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)
