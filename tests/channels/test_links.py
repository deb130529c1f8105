import httpx
import pytest
from starlette.applications import Starlette

from koban.channels.actions import IncidentAction
from koban.channels.links import LinkClaims, LinkDeps, LinkError, LinkSigner, MemoryNonceStore, build_routes
from tests.support.actions import RecordingActions

NOW = 1_772_366_400.0
signer = LinkSigner("link-secret")


def make_token(action=IncidentAction.ACKNOWLEDGE, expires_in=600.0, nonce="n1", person="alice") -> str:
    return signer.sign(person=person, incident_id=42, action=action, expires_at=NOW + expires_in, nonce=nonce)


def test_signed_token_verifies_to_its_claims():
    claims = signer.verify(make_token(), NOW)
    assert claims == LinkClaims("alice", 42, IncidentAction.ACKNOWLEDGE, int(NOW + 600), "n1")


def test_a_link_names_the_step_and_loop_of_its_message():
    token = signer.sign(
        person="alice",
        incident_id=42,
        action=IncidentAction.ESCALATE,
        expires_at=NOW + 60,
        nonce="n2",
        seen=(1, 0),
    )
    claims = signer.verify(token, NOW)
    assert isinstance(claims, LinkClaims) and claims.seen == (1, 0)


def test_expired_token_is_refused():
    assert signer.verify(make_token(expires_in=60), NOW + 60) == LinkError("expired")


def test_token_from_another_secret_is_forged():
    assert LinkSigner("other").verify(make_token(), NOW) == LinkError("forged")


def test_token_with_edited_claims_is_forged():
    mac = make_token().split(".")[1]
    evil = LinkSigner("x").sign(
        person="mallory", incident_id=42, action="resolve", expires_at=NOW + 9, nonce="n"
    )
    assert signer.verify(f"{evil.split('.')[0]}.{mac}", NOW) == LinkError("forged")


@pytest.mark.parametrize("token", ["", "abc", "abc.", ".abc", "é.é"])
def test_garbage_token_is_malformed(token):
    assert signer.verify(token, NOW) == LinkError("malformed")


def client(
    actions: RecordingActions, store: MemoryNonceStore | None = None, now: float = NOW
) -> httpx.AsyncClient:
    deps = LinkDeps(signer=signer, store=store or MemoryNonceStore(), actions=actions, clock=lambda: now)
    app = Starlette(routes=build_routes(deps))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://koban.test")


async def test_get_only_shows_a_confirmation_page_and_never_acts():
    actions = RecordingActions()
    async with client(actions) as c:
        for _ in range(3):  # link scanners prefetch, sometimes repeatedly
            resp = await c.get(f"/l/{make_token()}")
            assert resp.status_code == 200 and "<form method='post'>" in resp.text
    assert actions.calls == []
    assert resp.headers["cache-control"] == "no-store" and resp.headers["referrer-policy"] == "no-referrer"


async def test_post_acts_once_as_the_person_via_link():
    actions = RecordingActions()
    async with client(actions) as c:
        resp = await c.post(f"/l/{make_token(IncidentAction.RESOLVE)}")
    assert resp.status_code == 200 and "resolve by alice" in resp.text
    assert actions.calls == [(42, IncidentAction.RESOLVE, "alice", "link")]


async def test_post_escalates_from_the_step_its_message_was_sent_at():
    actions = RecordingActions()
    token = signer.sign(
        person="bob", incident_id=42, action="escalate", expires_at=NOW + 60, nonce="n3", seen=(2, 1)
    )
    async with client(actions) as c:
        assert (await c.post(f"/l/{token}")).status_code == 200
    assert actions.seen == [(2, 1)]


async def test_replayed_link_explains_it_was_used_and_does_not_act_again():
    actions, store = RecordingActions(), MemoryNonceStore()
    token = make_token()
    async with client(actions, store) as c:
        assert (await c.post(f"/l/{token}")).status_code == 200
        again = await c.post(f"/l/{token}")
    assert again.status_code == 409 and "already used" in again.text
    assert len(actions.calls) == 1
    assert actions.refused == [
        (42, IncidentAction.ACKNOWLEDGE, "alice", "link", "this link was already used (each link works once)")
    ]  # on the timeline and the audit trail, through koban's IncidentActions


@pytest.mark.parametrize(
    ("token", "status", "words"),
    [
        (make_token(expires_in=-1), 410, "expired"),
        (
            LinkSigner("other").sign(
                person="a", incident_id=1, action="resolve", expires_at=NOW + 60, nonce="x"
            ),
            403,
            "not valid",
        ),
        ("nonsense", 400, "incomplete"),
    ],
)
async def test_unusable_links_explain_themselves_with_a_4xx_page(token, status, words):
    actions = RecordingActions()
    async with client(actions) as c:
        for method in ("GET", "POST"):
            resp = await c.request(method, f"/l/{token}")
            assert resp.status_code == status and words in resp.text
    assert actions.calls == []


async def test_a_tasks_links_say_start_and_done_on_their_page():
    from koban.bootstrap.wiring.links import mint_links

    delivery = {"key": "d1", "person_id": "alice", "channel_type": "email", "step": 0, "loop": 0}
    task = {"id": 42, "status": "triggered", "details": {"kind": "task", "calendar": "ops"}}
    links = mint_links(signer, "http://koban.test", delivery, task, NOW)  # type: ignore[arg-type]
    async with client(RecordingActions()) as c:
        start = (await c.get(links["acknowledge"].removeprefix("http://koban.test"))).text
        done = (await c.get(links["resolve"].removeprefix("http://koban.test"))).text
    assert "<title>Start task 42</title>" in start and ">Start</button>" in start
    assert "<title>Mark task 42 done</title>" in done and ">Done</button>" in done
    page = {**task, "details": {}}
    plain = mint_links(signer, "http://koban.test", delivery, page, NOW)  # type: ignore[arg-type]
    claims = signer.verify(plain["acknowledge"].rsplit("/", 1)[1], NOW)
    assert isinstance(claims, LinkClaims) and not claims.task


async def test_a_links_page_speaks_the_browsers_language():
    async with client(RecordingActions()) as c:
        ja = {"Accept-Language": "ja,en-US;q=0.8"}
        page = await c.get(f"/l/{make_token(person='<bob>')}", headers=ja)
        expired = await c.get(f"/l/{make_token(expires_in=-1)}", headers=ja)
    assert "<title>インシデント 42: 確認する</title>" in page.text and ">確認する</button>" in page.text
    assert "<b>&lt;bob&gt;</b> として" in page.text  # the name still escaped inside the Japanese words
    assert expired.status_code == 410 and "このリンクは期限切れです" in expired.text
