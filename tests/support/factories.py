"""A small cast (alice, bob, carol) and make_<thing> factories for engine tests."""

from __future__ import annotations

from typing import Any

from koban.catalog.snapshot import hash_key
from koban.config.model import ConfigFile
from koban.domain.alerts import AlertAction, AlertEvent, Severity

KEY = "test-key-0123456789abcdef"


def make_config(
    *,
    escalate_after: str = "5m",
    repeat: int = 0,
    steps: list[dict] | None = None,
    channels: list[dict] | None = None,
    **service: Any,
) -> ConfigFile:
    people = [
        {
            "id": n,
            "name": n.title(),
            "notify": ["log"],
            "contacts": {"phone": f"+1555000{i}", "email": f"{n}@example.test"},
        }
        for i, n in enumerate(["alice", "bob", "carol"])
    ]
    steps = steps or [
        {"notify": [{"rotation": "primary", "mode": "current"}], "escalate_after": escalate_after},
        {"notify": [{"person": "carol"}], "escalate_after": escalate_after},
    ]
    return ConfigFile.model_validate(
        {
            "people": people,
            "rotations": [{"id": "primary", "members": ["alice", "bob"]}],
            "channels": channels or [{"id": "log", "type": "console"}],
            "policies": [{"id": "default", "steps": steps, "repeat": repeat}],
            "services": [
                {
                    "id": "web",
                    "policy": "default",
                    "integrations": [{"id": "web-generic", "type": "generic", "key_hashes": [hash_key(KEY)]}],
                    **service,
                }
            ],
        }
    )


def make_alert(
    key: str = "disk-full",
    *,
    action: str = "trigger",
    severity: str = "critical",
    summary: str = "disk full on db-1",
    **kw: Any,
) -> AlertEvent:
    return AlertEvent(
        dedup_key=key,
        action=AlertAction(action),
        severity=Severity(severity),
        summary=summary,
        source="test",
        **kw,
    )
