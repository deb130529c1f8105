import asyncio
import socket
import sys

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from koban.fakes.slack import FakeSlack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_fake_speaks_the_web_api_to_the_official_client():
    async with FakeSlack(token="xoxb-t") as fake:
        client = AsyncWebClient(token="xoxb-t", base_url=fake.base_url, retry_handlers=[])
        assert (await client.auth_test())["ok"] is True
        posted = await client.chat_postMessage(channel="C0ALERTS", text="hello")
        await client.chat_update(channel=posted["channel"], ts=posted["ts"], text="edited")
        assert fake.message(posted["ts"])["text"] == "edited"
        assert fake.message(posted["ts"])["updates"][0]["text"] == "hello"


async def test_fake_incoming_webhook_answers_plain_ok_and_records():
    async with FakeSlack() as fake:
        resp = await AsyncWebhookClient(fake.webhook_url("ops"), retry_handlers=[]).send(text="hi")
        assert (resp.status_code, resp.body) == (200, "ok")
        assert fake.messages[0]["channel"] == "T0FAKE/B0FAKE/ops"


async def test_fake_is_controllable_over_http_for_the_demo():
    async with FakeSlack(token="xoxb-t") as fake, aiohttp.ClientSession() as http:
        root = fake.base_url.removesuffix("/api/")
        async with http.post(
            f"{root}/_fake/fail", json={"method": "chat.postMessage", "error": "is_archived"}
        ):
            pass
        client = AsyncWebClient(token="xoxb-t", base_url=fake.base_url, retry_handlers=[])
        with pytest.raises(SlackApiError, match="is_archived"):
            await client.chat_postMessage(channel="C1", text="x")
        await client.chat_postMessage(channel="C1", text="y")
        async with http.get(f"{root}/_fake/messages") as resp:
            data = await resp.json()
        assert [m["text"] for m in data["messages"]] == ["y"]
        assert data["requests"] == ["chat.postMessage", "chat.postMessage"]


async def test_fake_runs_standalone():
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "koban.fakes.slack", "--port", str(port), "--signing-secret", "s"],
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/_fake/messages") as resp:
                        assert (await resp.json())["messages"] == []
                        break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("fake slack did not start")
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 5)


async def test_a_click_on_a_message_whose_buttons_changed_answers_what_happened():
    """The demo's printed click, sent after the incident was acknowledged (issue 17, item 4): the
    message no longer has an Acknowledge button, and the answer says so instead of a 500."""
    ack = {"type": "button", "action_id": "ack", "text": {"type": "plain_text", "text": "Acknowledge"}}
    resolve = ack | {"action_id": "resolve", "text": {"type": "plain_text", "text": "Resolve"}}
    async with FakeSlack(token="xoxb-t", interactivity_url="http://127.0.0.1:9/") as fake:
        client = AsyncWebClient(token="xoxb-t", base_url=fake.base_url, retry_handlers=[])
        blocks = [{"type": "actions", "block_id": "b", "elements": [ack, resolve]}]
        posted = await client.chat_postMessage(channel="C1", text="web-1 is down", blocks=blocks)
        after = [{"type": "actions", "block_id": "b", "elements": [resolve]}]
        await client.chat_update(
            channel=posted["channel"], ts=posted["ts"], text="Acknowledged by carol", blocks=after
        )
        root = fake.base_url.removesuffix("/api/")
        async with aiohttp.ClientSession() as http:
            click = {"message_ts": posted["ts"], "action_id": "ack", "user_id": "U0BOB"}
            async with http.post(f"{root}/_fake/click", json=click) as resp:
                assert resp.status == 409
                answer = await resp.json()
            async with http.post(f"{root}/_fake/click", json=click | {"message_ts": "1.2"}) as resp:
                assert resp.status == 404
                assert (await resp.json())["error"] == "message_not_found"
        assert answer["error"] == "no_such_button"
        assert answer["buttons"] == ["resolve"]
        assert "Acknowledged by carol" in answer["detail"]
