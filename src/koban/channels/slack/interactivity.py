"""Slack interactivity endpoint: a button click acknowledges/resolves/escalates through IncidentActions.

The request is verified (signing secret, 5-minute window) before anything else; forged or stale
requests get 401 and change nothing. The incident action is applied *before* answering 200 so a click
is never lost; slower follow-ups (refreshing the message, telling the clicker the outcome through
``response_url``) run after the response, well inside Slack's 3-second budget. Those follow-ups are a
courtesy: koban's durable ``update`` deliveries also rewrite the message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.webhook.async_client import AsyncWebhookClient
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from koban.channels.actions import ActionResult, IncidentAction, IncidentActions
from koban.channels.slack.message import BUTTON_ACTION_IDS
from koban.core.i18n import M_, Said, tr

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SlackClick:
    incident_id: int
    action: IncidentAction
    user_id: str
    user_name: str
    channel_id: str | None
    message_ts: str | None
    response_url: str | None
    seen: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class SlackDeps:
    """What the interactivity endpoint needs from koban.

    ``person_for_user(slack_user_id)`` returns the koban person key or None. ``refresh(incident_id,
    channel_id, ts)``, if given, runs after the answer (e.g. enqueue the Slack update delivery now).
    With ``require_known_user`` clicks from unmapped Slack users are refused; otherwise they act with
    ``actor=None`` and the Slack user is named in the timeline note.
    """

    signing_secret: str
    actions: IncidentActions
    person_for_user: Callable[[str], Awaitable[str | None]]
    refresh: Callable[[int, str, str], Awaitable[None]] | None = None
    clock: Callable[[], float] = time.time
    require_known_user: bool = False
    reply_to_clicker: bool = True
    path: str = "/integrations/slack/interactivity"
    # Read per request when given (secrets live in channel config that may change at runtime); a
    # request is valid if any one verifies, so two Slack apps (or a rotation) can share the route.
    signing_secrets: Callable[[], Sequence[str]] | None = None
    # Slack gives up after 3 s; an action slower than this is answered first and finished after.
    answer_within: float = 2.5
    # A person's ``language``: the clicker's answer is written in it (None or unset: English).
    language_of: Callable[[str], str | None] | None = None


class _InjectedClock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def parse_click(body: bytes) -> SlackClick | None:
    """Pure: the koban action in a block_actions form body, or None when there is nothing to do
    (other payload types, url buttons, foreign buttons, malformed values)."""
    try:
        payload: object = json.loads(parse_qs(body.decode("utf-8"))["payload"][0])
    except (KeyError, IndexError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        return None
    container = payload.get("container") or {}
    user = payload.get("user") or {}
    for action in payload.get("actions") or []:
        name = BUTTON_ACTION_IDS.get(str(action.get("action_id")))
        prefix, _, rest = str(action.get("value", "")).partition(":")
        raw_id, *shown = rest.split(":")
        if name is None or prefix != "incident" or not raw_id.isdigit():
            continue
        # Buttons made since replay safety carry the step they were shown at; older ones do not.
        seen = (int(shown[0]), int(shown[1])) if len(shown) == 2 and all(x.isdigit() for x in shown) else None
        return SlackClick(
            incident_id=int(raw_id),
            action=IncidentAction(name),
            user_id=str(user.get("id", "")),
            user_name=str(user.get("username") or user.get("name") or ""),
            channel_id=container.get("channel_id") or (payload.get("channel") or {}).get("id"),
            message_ts=container.get("message_ts") or (payload.get("message") or {}).get("ts"),
            response_url=payload.get("response_url"),
            seen=seen,
        )
    return None


async def _reply(response_url: str, text: str) -> None:
    try:
        await AsyncWebhookClient(response_url, timeout=5, retry_handlers=[]).send_dict(
            {"response_type": "ephemeral", "replace_original": False, "text": text}
        )
    except Exception:  # a courtesy message; never let it surface as an error
        log.warning("slack response_url reply failed", exc_info=True)


async def _after(deps: SlackDeps, click: SlackClick, result: ActionResult | None, text: str) -> None:
    if result is not None and deps.refresh is not None and click.channel_id and click.message_ts:
        try:
            await deps.refresh(click.incident_id, click.channel_id, click.message_ts)
        except Exception:
            log.warning("slack message refresh failed", exc_info=True)
    if deps.reply_to_clicker and click.response_url:
        await _reply(click.response_url, text)


def _verifiers(deps: SlackDeps) -> Callable[[], list[SignatureVerifier]]:
    clock = _InjectedClock(deps.clock)
    fixed = [SignatureVerifier(deps.signing_secret, clock=clock)] if deps.signing_secret else []
    secrets = deps.signing_secrets  # SlackDeps is frozen: the same callable at every request
    if secrets is None:
        return lambda: fixed
    return lambda: [SignatureVerifier(s, clock=clock) for s in secrets() if s] + fixed


def _lang(deps: SlackDeps, person: str | None) -> str | None:
    return deps.language_of(person) if deps.language_of and person else None


async def _act(deps: SlackDeps, click: SlackClick, person: str | None) -> ActionResult:
    note = None if person else f"slack user {click.user_id} ({click.user_name})"
    try:
        return await deps.actions.act(
            click.incident_id, click.action, actor=person, via="slack", note=note, seen=click.seen
        )
    except LookupError:
        gone = Said.of(M_("incident {id} does not exist"), id=click.incident_id)
        return ActionResult(False, "unknown", gone.english(), gone)


def build_routes(deps: SlackDeps) -> list[Route]:
    verifiers = _verifiers(deps)

    async def interactivity(request: Request) -> Response:
        body = await request.body()
        if not (
            request.headers.get("X-Slack-Signature") and request.headers.get("X-Slack-Request-Timestamp")
        ):
            return JSONResponse({"detail": "missing X-Slack-Signature or X-Slack-Request-Timestamp"}, 401)
        candidates = verifiers()
        if not candidates:
            # Not configured is not an outage: nothing here to click (a 5xx would make Slack retry).
            return JSONResponse({"detail": "no Slack channel with a signing secret is configured"}, 404)
        headers = dict(request.headers)
        if not any(v.is_valid_request(body, headers) for v in candidates):
            return JSONResponse({"detail": "invalid Slack signature"}, 401)
        click = parse_click(body)
        if click is None:
            return Response(status_code=200)
        person = await deps.person_for_user(click.user_id)
        if person is None and deps.require_known_user:
            # Nobody known: no language to answer in but English (as an SMS from an unknown number).
            text = tr(None, "Your Slack account is not linked to a koban person, so nothing was changed.")
            return Response(status_code=200, background=BackgroundTask(_after, deps, click, None, text))
        # The action normally commits before the answer, so a click is never lost; if the database is
        # slow, Slack still gets its answer in time and the action finishes (shielded) afterwards.
        task = asyncio.ensure_future(_act(deps, click, person))
        try:
            result = await asyncio.wait_for(asyncio.shield(task), deps.answer_within)
        except TimeoutError:
            late = BackgroundTask(_finish_late, deps, click, task, _lang(deps, person))
            return Response(status_code=200, background=late)
        text = result.text(_lang(deps, person))
        return Response(status_code=200, background=BackgroundTask(_after, deps, click, result, text))

    return [Route(deps.path, interactivity, methods=["POST"])]


async def _finish_late(
    deps: SlackDeps, click: SlackClick, task: asyncio.Future[ActionResult], lang: str | None
) -> None:
    try:
        result = await task
    except Exception:
        log.exception("slack click on incident %s failed", click.incident_id)
        await _after(deps, click, None, tr(lang, "koban could not apply this click; please try again."))
        return
    await _after(deps, click, result, result.text(lang))
