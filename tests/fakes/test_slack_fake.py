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
