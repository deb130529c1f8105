"""koban (system + API on a real port) and the Twilio simulator, talking over real HTTP in one loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import sqlalchemy as sa
import uvicorn
from twilio.request_validator import RequestValidator

from koban.auth.audit import Entry, Filter, query
from koban.bootstrap.app import create_app
from koban.bootstrap.system import System
from koban.catalog.snapshot import hash_key
from koban.config.model import ConfigFile
from koban.core.clock import SystemClock
from koban.db import schema as t
from koban.fakes.twilio import TwilioSimulator
from koban.testing.ports import free_port
from tests.support.system import running_system

AUTH_TOKEN = "sim-auth-token"
KEY = "voice-e2e-key-0123456789"
PHONES = {"alice": "+15550100001", "bob": "+15550100002", "carol": "+15550100003"}
SCENARIO = {"numbers": {PHONES["alice"]: "no-answer", PHONES["bob"]: "busy", PHONES["carol"]: "ack"}}


def voice_config(
    sim: TwilioSimulator,
    *,
    escalate_after: str = "60s",
    channel: Mapping[str, Any] | None = None,
    languages: Mapping[str, str] | None = None,
    via: list[str] | None = None,
) -> ConfigFile:
    """alice, bob, carol called in turn through one voice channel on the simulator's account."""
    phone = {
        "id": "phone",
        "type": "voice",
        "account_sid": sim.account_sid,
        "auth_token": AUTH_TOKEN,
        "from_number": sim.number,
        "api_base_url": sim.url,
        "ring_timeout": 5,
        "gather_timeout": 2,
        "calls_per_second": 50,
        "retry_rules": {"busy": {"max_retries": 1, "delay_seconds": 0.5}},
        "late_key_grace": 0.5,
        **(channel or {}),
    }
    people = [
        {
            "id": p,
            "name": p.title(),
            "language": (languages or {}).get(p, "en-US"),
            "contacts": {"phone": num},
            "notify": ["phone"],
        }
        for p, num in PHONES.items()
    ]
    return ConfigFile.model_validate(
        {
            "people": people,
            "rotations": [{"id": "primary", "members": list(PHONES)}],
            "channels": [phone, {"id": "text", "type": "sms", **{k: phone[k] for k in _ACCOUNT}}],
            "policies": [
                {
                    "id": "critical",
                    "steps": [
                        {
                            "notify": [{"rotation": "primary", "mode": "in_turn", "via": via or []}],
                            "escalate_after": escalate_after,
                        }
                    ],
                }
            ],
            "services": [
                {
                    "id": "web",
                    "policy": "critical",
                    "integrations": [{"id": "web-generic", "type": "generic", "key_hashes": [hash_key(KEY)]}],
                }
            ],
        }
    )


_ACCOUNT = ("account_sid", "auth_token", "from_number", "api_base_url")


@dataclass
class Rig:
    k: System
    sim: TwilioSimulator
    url: str

    async def timeline(self, incident_id: int) -> list[dict[str, Any]]:
        async with self.k.db.read() as conn:
            rows = await conn.execute(
                sa.select(t.timeline).where(t.timeline.c.incident_id == incident_id).order_by(t.timeline.c.id)
            )
            return [dict(r) for r in rows.mappings()]

    async def incident(self, incident_id: int) -> dict[str, Any]:
        async with self.k.db.read() as conn:
            row = await conn.execute(sa.select(t.incidents).where(t.incidents.c.id == incident_id))
            return dict(row.mappings().one())

    async def wait_for(
        self, incident_id: int, kind: str, within: float = 20.0, **match: Any
    ) -> dict[str, Any]:
        for _ in range(int(within / 0.05)):
            for entry in await self.timeline(incident_id):
                if entry["kind"] == kind and all(entry.get(k) == v for k, v in match.items()):
                    return entry
            await asyncio.sleep(0.05)
        kinds = [(e["kind"], e["actor"]) for e in await self.timeline(incident_id)]
        raise AssertionError(f"no {kind} {match} on the timeline: {kinds}")

    async def post(self, url: str, form: Mapping[str, str], *, token: str | None = AUTH_TOKEN) -> int:
        """POST a form as Twilio would, signed with ``token`` (None: unsigned); returns the status."""
        return (await self.send(url, form, token=token))[0]

    async def send(
        self, url: str, form: Mapping[str, str], *, token: str | None = AUTH_TOKEN
    ) -> tuple[int, str]:
        """Like ``post``, returning the status and the answer's text."""
        headers = {}
        if token is not None:
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(url, dict(form))
        async with aiohttp.ClientSession() as http, http.post(url, data=dict(form), headers=headers) as resp:
            return resp.status, await resp.text()

    async def audit(self, incident_id: int) -> list[Entry]:
        """The incident's audit trail, oldest first."""
        async with self.k.db.read() as conn:
            entries = await query(conn, Filter(object_kind="incident", object_id=str(incident_id)))
        return entries[::-1]

    async def escalated_by(self, incident_id: int) -> list[str | None]:
        return [e["actor"] for e in await self.timeline(incident_id) if e["kind"] == "escalated"]

    async def refusals(self, incident_id: int) -> list[tuple[str | None, str, str]]:
        """(actor, via, action) of each refused action on the timeline, oldest first."""
        timeline = await self.timeline(incident_id)
        return [
            (e["actor"], e["via"], e["data"]["action"]) for e in timeline if e["kind"] == "action.refused"
        ]

    async def trail(self, incident_id: int) -> list[tuple[str, str | None, str]]:
        """(action, actor, door) of each audit entry of the incident, oldest first."""
        return [(e.change.action, e.origin.actor, e.origin.via) for e in await self.audit(incident_id)]

    async def delivery(self, key_part: str) -> dict[str, Any]:
        async with self.k.db.read() as conn:
            rows = await conn.execute(sa.select(t.deliveries).where(t.deliveries.c.key.contains(key_part)))
            return dict(rows.mappings().first() or {})

    def calls_to(self, person: str) -> list[Any]:
        return [c for c in self.sim.calls.values() if c.to == PHONES[person]]


@asynccontextmanager
async def koban_and_simulator(
    db_url: str,
    tmp_path: Any,
    personas: Mapping[str, Any] = SCENARIO,
    speed: float = 20.0,
    sim_kwargs: Mapping[str, Any] | None = None,
    **cfg: Any,
) -> AsyncIterator[Rig]:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    async with AsyncExitStack() as stack:
        sim = await stack.enter_async_context(
            TwilioSimulator(
                AUTH_TOKEN,
                personas=personas,
                speed=speed,
                sms_url=f"{public}/twilio/sms/inbound",
                **(sim_kwargs or {}),
            )
        )
        cfg_file = voice_config(sim, **cfg)
        system = running_system(
            db_url, cfg_file, tmp_path, worker=True, clock=SystemClock(), public_url=public, port=port
        )
        k = await stack.enter_async_context(system)
        app = create_app(k, manage_system=False)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
        )
        task = asyncio.create_task(server.serve())
        while not server.started:
            assert not task.done(), "koban did not start"
            await asyncio.sleep(0.02)
        try:
            yield Rig(k, sim, public)
        finally:
            server.should_exit = True
            await task
