"""Plays one simulated call: progress callbacks, the persona's behaviour, and the TwiML it is served.

Follows protocols.md §1.6-1.7: ``queued → initiated → ringing → in-progress → completed`` (or busy,
no-answer, failed, canceled); the answered call fetches ``Url`` and runs ``<Say>``, ``<Gather>``,
``<Redirect>``, ``<Pause>`` and ``<Hangup>``. A ``<Gather>`` with a key pressed requests ``action``
with ``Digits``; without one it falls through to the next verb. Waits are divided by ``speed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from koban.fakes.twilio.personas import Behavior, Persona
from koban.fakes.twilio.resources import SimCall
from koban.fakes.twilio.webhooks import Signer, call_params, status_params

MAX_DOCUMENTS = 50  # a Redirect loop in the app must not spin forever
QUEUE_DELAY = 0.2  # simulated seconds between create and dialling
LOOP_FOREVER = 1000  # loop="0": until the call ends; Twilio stops a <Play loop="0"> after 1000


@dataclass
class _Doc:
    url: str
    verbs: list[ET.Element]


class Dialer:
    def __init__(self, signer: Signer, speed: float = 1.0) -> None:
        self.signer = signer
        self.speed = speed

    # -- time -------------------------------------------------------------------------------------------
    async def _wait(self, call: SimCall, seconds: float) -> bool:
        """Sleep simulated seconds; True when a REST update asked to end the call meanwhile."""
        if call.hangup_requested is None and seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(call.wakeup.wait(), timeout=seconds / self.speed)
        return call.hangup_requested is not None

    def _event(self, call: SimCall, kind: str, **data: Any) -> None:
        call.events.append({"kind": kind, "at": datetime.now(UTC).isoformat(), **data})

    # -- progress ---------------------------------------------------------------------------------------
    def _subscribed(self, call: SimCall) -> set[str]:
        events: set[str] = set()
        for value in call.params.get("StatusCallbackEvent", []):
            events.update(value.split())
        return events

    async def _progress(self, call: SimCall, event: str, status: str) -> None:
        call.status = "queued" if status == "initiated" else status  # "initiated" is not a REST status
        call.updated_at = datetime.now(UTC).replace(microsecond=0)
        callback = call.param("StatusCallback")
        # Terminal outcomes always go out; the others only when subscribed (protocols.md §1.2).
        if not callback or (event != "completed" and event not in self._subscribed(call)):
            return
        params = status_params(call, status, call.sequence, datetime.now(UTC))
        call.sequence += 1
        method = call.param("StatusCallbackMethod", "POST") or "POST"
        code, _, body = await self.signer.send(callback, method, params)
        self._event(call, "status", url=callback, params=params, http_status=code, body=body[:200])

    async def _finish(self, call: SimCall, status: str) -> None:
        now = datetime.now(UTC).replace(microsecond=0)
        call.end_time = now
        await self._progress(call, "completed", status)
        call.done.set()

    # -- the call ---------------------------------------------------------------------------------------
    async def run(self, call: SimCall, persona: Persona, queued_for: float = 0.0) -> None:
        try:
            await self._run(call, persona, queued_for)
        finally:
            call.done.set()

    async def _run(self, call: SimCall, persona: Persona, queued_for: float) -> None:
        # Over the account's calls-per-second, Twilio queues the call (status queued), never refuses it.
        if await self._wait(call, QUEUE_DELAY + queued_for):
            return await self._finish(call, "canceled")
        call.start_time = datetime.now(UTC).replace(microsecond=0)
        await self._progress(call, "initiated", "initiated")
        if persona.behavior is Behavior.FAILED:
            return await self._finish(call, "failed")
        await self._progress(call, "ringing", "ringing")
        timeout = float(call.param("Timeout", "60") or 60)
        if persona.behavior is Behavior.BUSY:
            if await self._wait(call, persona.answer_after):
                return await self._finish(call, "canceled")
            return await self._finish(call, "busy")
        if persona.behavior is Behavior.NO_ANSWER or persona.answer_after >= timeout:
            if await self._wait(call, timeout):
                return await self._finish(call, "canceled")
            return await self._finish(call, "no-answer")
        if await self._wait(call, persona.answer_after):
            return await self._finish(call, "canceled")
        call.answered_at = datetime.now(UTC).replace(microsecond=0)
        if call.param("MachineDetection"):
            call.answered_by = "machine_start" if persona.behavior is Behavior.MACHINE else "human"
        await self._progress(call, "answered", "in-progress")
        await self._converse(call, persona)
        await self._finish(call, "completed")

    # -- TwiML ------------------------------------------------------------------------------------------
    async def _fetch(
        self, call: SimCall, kind: str, url: str, method: str, extra: dict[str, str] | None = None
    ) -> _Doc | None:
        params = {**call_params(call), **(extra or {})}
        code, ctype, body = await self.signer.send(url, method, params)
        self._event(call, kind, url=url, method=method, params=params, http_status=code, body=body[:2000])
        if not 200 <= code < 300:
            call.errors.append({"code": 11200, "message": f"HTTP retrieval failure ({code})", "url": url})
            return None
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            call.errors.append({"code": 12100, "message": f"Document parse failure: {exc}", "url": url})
            return None
        if root.tag != "Response":
            call.errors.append({"code": 12100, "message": "root element is not <Response>", "url": url})
            return None
        return _Doc(url, list(root))

    async def _converse(self, call: SimCall, persona: Persona) -> None:
        url = call.param("Url")
        if not url:
            return
        doc = await self._fetch(call, "twiml", url, call.param("Method", "POST") or "POST")
        gathers = 0
        fetched = 1
        while doc is not None and fetched <= MAX_DOCUMENTS:
            next_doc: _Doc | None = None
            for verb in doc.verbs:
                if call.hangup_requested:
                    return
                if verb.tag in ("Say", "Play"):
                    if await self._say(call, persona, verb):
                        return
                elif verb.tag == "Pause":
                    if await self._wait(call, float(verb.get("length", "1"))):
                        return
                elif verb.tag == "Hangup":
                    self._event(call, "hangup")
                    return
                elif verb.tag == "Redirect":
                    target = urljoin(doc.url, (verb.text or "").strip())
                    next_doc = await self._fetch(call, "redirect", target, verb.get("method", "POST"))
                    break
                elif verb.tag == "Gather":
                    digit = None if persona.behavior is Behavior.MACHINE else persona.digit_for(gathers)
                    gathers += 1
                    outcome = await self._gather(call, persona, verb, doc.url, digit)
                    if outcome == "hangup":
                        return
                    if isinstance(outcome, _Doc) or outcome is None:
                        next_doc = outcome
                        break
                else:
                    call.errors.append({"code": 12200, "message": f"unsupported verb <{verb.tag}>"})
            else:
                return  # verbs ran out: Twilio hangs up
            doc = next_doc
            fetched += 1

    async def _say(self, call: SimCall, persona: Persona, verb: ET.Element, *, cut: bool = False) -> bool:
        """``<Say>`` or ``<Play>`` (its URL in ``text``), ``loop`` times; ``loop="0"`` plays until the
        call ends (or a nested key press cuts it)."""
        raw = (verb.get("loop") or "1").strip()
        if not raw.isdigit():
            call.errors.append(
                {"code": 12200, "message": f"<{verb.tag}> loop must be an integer >= 0: {raw!r}"}
            )
            raw = "1"
        loop = int(raw)
        plays = LOOP_FOREVER if loop == 0 else loop
        call.spoken.append(
            {
                "verb": verb.tag,
                "text": (verb.text or "").strip() if verb.tag == "Play" else verb.text or "",
                "language": verb.get("language"),
                "voice": verb.get("voice"),
                "loop": loop,
                "plays": 1 if cut else plays,
                "interrupted": cut,
            }
        )
        return False if cut else await self._wait(call, persona.say_seconds * plays)

    async def _gather(
        self, call: SimCall, persona: Persona, verb: ET.Element, doc_url: str, digit: str | None
    ) -> _Doc | str | None:
        """A fetched document, ``"continue"`` (fall through), ``"hangup"``, or None (fetch failed)."""
        nested = [v for v in verb if v.tag in ("Say", "Play")]
        action = urljoin(doc_url, verb.get("action") or doc_url)
        method = verb.get("method", "POST")
        finish_key = verb.get("finishOnKey", "#")
        if digit is not None:
            # The key cuts the prompt short: every nested <Say> was at least started.
            for say in nested:
                await self._say(call, persona, say, cut=True)
            if await self._wait(call, persona.press_after):
                return "hangup"
            call.digits.append(digit)
            self._event(call, "keypress", digit=digit)
            pressed = "" if digit == finish_key else digit
            if pressed:
                return await self._fetch(call, "gather", action, method, {"Digits": pressed})
        else:
            for say in nested:
                if await self._say(call, persona, say):
                    return "hangup"
            if await self._wait(call, float(verb.get("timeout", "5"))):
                return "hangup"
        if verb.get("actionOnEmptyResult", "false").lower() == "true":
            return await self._fetch(call, "gather", action, method, {"Digits": ""})
        return "continue"
