import email
import socket
import ssl
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from koban.channels.base import DeliveryStatus, Recipient
from koban.channels.email import EmailChannel
from tests.channels.factories import make_incident, make_notification


class Mailbox:
    """aiosmtpd handler: records messages, refuses some recipients like a real MTA would."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        if address.startswith("busy@"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"


def _auth(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"koban", b"pw")
    # handled=False: let aiosmtpd answer 535 itself on failure.
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = Path(tmp_path_factory.mktemp("ca")) / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


@pytest.fixture
def plain_server() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def starttls_server(ca: trustme.CA) -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_context(ca),
        require_starttls=True,
        authenticator=_auth,
        auth_required=True,
    )
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, ssl_context=_server_context(ca))
    controller.start()
    yield box, port
    controller.stop()


def plain(port: int, **extra) -> dict:
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from": "koban <pager@koban.example>",
        **extra,
    }


def _parts(message: Message) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }


async def test_page_is_mailed_with_text_and_html_parts_and_signed_links(plain_server):
    box, port = plain_server
    n = make_notification(plain(port), links={"acknowledge": "https://k.example/l/tok-ack"})
    result = await EmailChannel().send(n)
    assert result.status is DeliveryStatus.SENT
    [message] = box.messages
    assert message["Subject"] == "[CRITICAL] DB down (incident 42)"
    assert message["To"] == "alice@example.com"
    assert message["Message-ID"] == result.provider_ref == "<inc42-s0-alice-1@koban.example>"
    assert message["References"] == "<koban-incident-42@koban.example>"
    parts = _parts(message)
    assert "https://k.example/l/tok-ack" in parts["text/plain"]
    assert 'href="https://k.example/l/tok-ack"' in parts["text/html"]
    assert "https://runbooks.example/db" in parts["text/plain"]


async def test_a_calendar_task_is_mailed_as_a_task_with_start_and_done_links(plain_server):
    box, port = plain_server
    task = make_incident(summary="Backup check", details={"kind": "task"}, severity="warning")
    links = {"acknowledge": "https://k.example/l/tok-ack", "resolve": "https://k.example/l/tok-res"}
    result = await EmailChannel().send(make_notification(plain(port), incident=task, links=links))
    assert result.status is DeliveryStatus.SENT
    [message] = box.messages
    assert message["Subject"] == "[TASK] Backup check (task 42)"
    parts = _parts(message)
    assert "Start: https://k.example/l/tok-ack" in parts["text/plain"]
    assert "Done: https://k.example/l/tok-res" in parts["text/plain"]
    assert "Acknowledge" not in parts["text/plain"] and "Acknowledge" not in parts["text/html"]
    html = " ".join(parts["text/html"].split())
    assert "> Start</a>" in html and "> Done</a>" in html


async def test_html_part_escapes_alert_text(plain_server):
    box, port = plain_server
    incident = make_incident(summary="<script>alert(1)</script>")
    await EmailChannel().send(make_notification(plain(port), incident=incident))
    html = _parts(box.messages[0])["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html


async def test_custom_templates_render_in_the_sandbox(plain_server):
    box, port = plain_server
    cfg = plain(
        port, subject_template="{{ incident.service }}: {{ incident.summary }}", text_template="T {{ kind }}"
    )
    await EmailChannel().send(make_notification(cfg))
    assert box.messages[0]["Subject"] == "db: DB down"
    assert _parts(box.messages[0])["text/plain"].startswith("T page")


async def test_unsafe_template_fails_permanently(plain_server):
    box, port = plain_server
    cfg = plain(port, text_template="{{ ''.__class__.__mro__ }}")
    result = await EmailChannel().send(make_notification(cfg))
    assert result.status is DeliveryStatus.PERMANENT and box.messages == []


async def test_refused_recipient_is_permanent(plain_server):
    box, port = plain_server
    n = make_notification(plain(port), recipient=Recipient(address="nobody@example.com", person="carol"))
    result = await EmailChannel().send(n)
    assert result.status is DeliveryStatus.PERMANENT and "550" in (result.error or "")


async def test_temporarily_refused_recipient_is_transient(plain_server):
    box, port = plain_server
    n = make_notification(plain(port), recipient=Recipient(address="busy@example.com", person="carol"))
    result = await EmailChannel().send(n)
    assert result.status is DeliveryStatus.TRANSIENT and "451" in (result.error or "")


async def test_unreachable_server_is_transient():
    result = await EmailChannel().send(make_notification(plain(free_port())))
    assert result.status is DeliveryStatus.TRANSIENT


async def test_starttls_with_auth_delivers(starttls_server, ca_file):
    box, port = starttls_server
    cfg = plain(port, security="starttls", username="koban", password="pw", ca_file=ca_file)
    assert (await EmailChannel().send(make_notification(cfg))).status is DeliveryStatus.SENT
    assert len(box.messages) == 1


async def test_wrong_password_is_permanent(starttls_server, ca_file):
    box, port = starttls_server
    cfg = plain(port, security="starttls", username="koban", password="nope", ca_file=ca_file)
    result = await EmailChannel().send(make_notification(cfg))
    assert result.status is DeliveryStatus.PERMANENT and "authentication" in (result.error or "")
    assert box.messages == []


async def test_untrusted_certificate_is_permanent(starttls_server):
    _, port = starttls_server
    cfg = plain(port, security="starttls", username="koban", password="pw")
    result = await EmailChannel().send(make_notification(cfg))
    assert result.status is DeliveryStatus.PERMANENT and "certificate" in (result.error or "")


async def test_implicit_tls_delivers(tls_server, ca_file):
    box, port = tls_server
    cfg = plain(port, security="tls", ca_file=ca_file)
    assert (await EmailChannel().send(make_notification(cfg))).status is DeliveryStatus.SENT
    assert len(box.messages) == 1


async def test_missing_host_or_sender_is_permanent():
    assert (await EmailChannel().send(make_notification({"host": "x"}))).status is DeliveryStatus.PERMANENT
