from __future__ import annotations

from pathlib import Path

import yaml

from koban.domain.alerts import AlertAction
from koban.sources.zabbix import ZabbixSource
from tests.sources.conftest import make_request

MEDIA = Path(__file__).parents[2] / "integrations" / "zabbix"


def load_media_type():
    return yaml.safe_load((MEDIA / "media_koban.yaml").read_text())["zabbix_export"]["media_types"][0]


def test_media_type_ships_the_same_script_as_the_repo():
    assert load_media_type()["script"].strip() == (MEDIA / "koban.js").read_text().strip()


def test_what_the_media_type_posts_parses_even_with_every_macro_unresolved_but_the_event_id():
    params = {p["name"]: p["value"] for p in load_media_type()["parameters"]}
    body = {k: v for k, v in params.items() if k not in ("URL", "HTTPProxy", "token")} | {"source": "zabbix"}
    body["event_id"] = "4711"
    [event] = ZabbixSource().parse(make_request(body), {})
    assert (event.action, event.dedup_key) == (AlertAction.TRIGGER, "4711")
