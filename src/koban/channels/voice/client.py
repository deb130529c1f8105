"""The twilio REST client, built once from settings, run off the event loop.

Why ``asyncio.to_thread`` around the synchronous client rather than ``AsyncTwilioHttpClient``: the
sync (requests) client is the SDK's primary, best-tested path; paging volume is tiny (paced at the
account's CPS, ~1 call/s), so one worker thread per request costs nothing; and it avoids the
``aiohttp_retry`` extra plus a session bound to one event loop. Retries are never done inside the
SDK (``max_retries`` unset): creating a call is not idempotent, ``reconcile`` decides instead.
"""

from __future__ import annotations

import logging

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from koban.channels.voice.settings import TwilioSettings


def make_client(settings: TwilioSettings) -> Client:
    # The SDK logs every request and header at INFO; our own log says what matters (who, outcome).
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    http = TwilioHttpClient(timeout=settings.request_timeout)
    client = Client(settings.account_sid, settings.auth_tokens[0], http_client=http)
    if settings.api_base_url:
        # SDK-internal but stable attribute (protocols.md §1.10): points Calls/Messages at the simulator.
        client.api.base_url = settings.api_base_url.rstrip("/")
    # The SDK builds its REST resources on first use: about 0.2 s of imports holding the GIL, which
    # would land on the first page after a start and stall every other send of that moment.
    account = client.api.v2010.account
    _ = account.calls, account.messages
    return client


def close_client(client: Client) -> None:
    session = getattr(client.http_client, "session", None)
    if session is not None:
        session.close()
