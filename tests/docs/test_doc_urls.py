"""Every URL the integration docs and the README give is served (issue 17, item 9).

Paths are read from docs/integrations/*.md and README.md. koban's own are sent to the app (with a
real integration key and ids of the test config where the doc has a placeholder): each must reach a
route, not the router's 404 (``{"detail": "Not Found"}``) or a 405 for the method the doc names.
The fakes' paths (``/_fake``, ``/_sim``, ``/_recv``, the fake Slack's Web API) are resolved by the
fake the doc describes. Third-party hosts (events.pagerduty.com, slack.com) are not ours to test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from koban.bootstrap.app import create_app
from koban.fakes.pagerduty import FakePagerDuty
from koban.fakes.slack import FakeSlack
from koban.fakes.twilio import TwilioSimulator
from koban.fakes.webhook_receiver import RecordingReceiver
from tests.support.factories import KEY, make_config
from tests.support.system import client, running_system

ROOT = Path(__file__).resolve().parents[2]
DOCS = [*sorted((ROOT / "docs" / "integrations").glob("*.md")), ROOT / "README.md"]
PATH = re.compile(
    r"(?:\b(GET|POST|PUT|DELETE|PATCH)\s+)?(?:https?://([^/\s`'\"<>]+)|(?<![\w.]))"
    r"(/(?:api|v2|integrations|twilio|healthz|metrics|openapi\.json|docs|login|l|incidents"
    r"|_fake|_sim|_recv|services|actions)\b[^\s`'\")|,]*)"
)
THIRD_PARTY = {"events.pagerduty.com", "slack.com"}
FAKE_PREFIXES = ("/_fake", "/_sim", "/_recv", "/services/", "/actions/", "/api/chat.", "/api/auth.")
# One value per placeholder the docs use, from tests.support.factories.make_config.
VALUES = {"KEY": KEY, "id": "web-generic", "person": "alice", "contact": "phone", "sid": "CA0", "token": "x"}


def doc_paths() -> list[tuple[str, str | None, str]]:
    """(doc, method or None, path) for every path of ours or of a fake."""
    found = set()
    for doc in DOCS:
        for m in PATH.finditer(doc.read_text()):
            method, host, path = m.groups()
            if host not in THIRD_PARTY:
                path = path if path.endswith("...") else path.rstrip(".:")  # a sentence's end
                found.add((doc.name, method, path))
    return sorted(found, key=lambda f: (f[0], f[2], f[1] or ""))


def concrete(path: str) -> list[str]:
    """The doc's path with placeholders filled; ``[/{id}]`` gives both forms, ``...`` is a prefix."""
    forms = [re.sub(r"\[[^\]]*\]", "", path), re.sub(r"\[([^\]]*)\]", r"\1", path)]
    forms = [f.split("?")[0] for f in forms]
    out = []
    for form in dict.fromkeys(forms):
        form = re.sub(r"[<{]([^>}]+)[>}]", lambda m: VALUES.get(m.group(1), "x"), form)
        form = re.sub(r"/KEY\b", f"/{KEY}", form).replace("...", "x")
        out.append(form)
    return out


def is_prefix(path: str) -> bool:
    """``/twilio`` or ``/twilio/...``: where a family of routes is mounted, not one URL."""
    return path.endswith("/...") or path.count("/") == 1 and path in ("/twilio", "/l")


def test_the_docs_give_urls():
    paths = doc_paths()
    assert len(paths) > 30
    assert ("alertmanager.md", None, "/api/v1/ingest/<KEY>") in paths


async def test_every_koban_url_in_the_docs_reaches_a_route(db_url, tmp_path):
    ours = [(d, m, p) for d, m, p in doc_paths() if not p.startswith(FAKE_PREFIXES)]
    unrouted = []
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as http:
        routes = [getattr(r, "path", "") for r in create_app(k, manage_system=False).routes]
        for doc, method, path in ours:
            if is_prefix(path):
                prefix = path.removesuffix("...").rstrip("/") + "/"
                if not any(r.startswith(prefix) for r in routes):
                    unrouted.append(f"{doc}: no route under {path}")
                continue
            for url in concrete(path):
                resp = await http.request(method or "GET", url)
                not_found = resp.status_code == 404 and resp.content in (b"", b'{"detail":"Not Found"}')
                wrong_method = resp.status_code == 405 and method is not None
                if not_found or wrong_method:
                    unrouted.append(f"{doc}: {method or 'any'} {path} -> {resp.status_code} {resp.text[:80]}")
    assert not unrouted, "\n".join(unrouted)


FAKES = {
    "slack.md": lambda: FakeSlack(),
    "twilio.md": lambda: TwilioSimulator(),
    "pagerduty.md": lambda: FakePagerDuty(),
    "webhook.md": lambda: RecordingReceiver(),
}


@pytest.mark.parametrize("doc", sorted(FAKES))
async def test_every_fake_url_in_the_docs_is_served_by_that_fake(doc):
    app: web.Application = FAKES[doc]().app()
    theirs = [(m, p) for d, m, p in doc_paths() if d == doc and p.startswith(FAKE_PREFIXES)]
    assert theirs
    unrouted = []
    for method, path in theirs:
        for url in concrete(path):
            match = await app.router.resolve(make_mocked_request(method or "GET", url, app=app))
            status = getattr(match.http_exception, "status", None)
            if status == 404 or (status == 405 and method is not None):
                unrouted.append(f"{method or 'any'} {path} -> {status}")
    assert not unrouted, "\n".join(unrouted)


async def test_the_incident_link_notifications_carry_leads_to_the_incident(db_url, tmp_path):
    """``{public_url}/incidents/{id}`` (webhook.md's ``url``, Slack and email links) answered 404."""
    async with running_system(db_url, make_config(), tmp_path) as k, client(k, admin=False) as http:
        resp = await http.get("/incidents/42", headers={"accept": "text/html"})  # as a browser asks
        assert resp.status_code == 303
        assert resp.headers["location"] == "/login?next=/incidents/42"  # the incident's page, after sign-in
