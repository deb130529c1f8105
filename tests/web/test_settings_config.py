"""``/settings/config``: every section config as code sets, read-only, for administrators; each
object marked YAML or not, secrets masked, monitors counted rather than listed."""

from __future__ import annotations

from koban.auth.permissions import Role
from koban.config.model import ConfigFile
from tests.support.factories import make_config
from tests.support.system import client, running_system
from tests.web.pages_support import add_person, browser, sign_in

HOOK = {"id": "hook", "type": "webhook", "url": "http://127.0.0.1:9/in", "secret": "s3cr3t-v4lue"}


def _config() -> ConfigFile:
    data = make_config().model_dump(mode="json")
    data["monitors"] = [{"id": "m1", "service": "web", "target": "http://127.0.0.1:9/", "enabled": False}]
    data["maintenance"] = [
        {"id": "nightly-backup", "services": ["web"], "cron": "0 3 * * *", "duration": "1h"}
    ]
    return ConfigFile.model_validate(data)


async def test_an_administrator_reads_every_section_the_yaml_sets_with_secrets_masked(db_url, tmp_path):
    async with running_system(db_url, _config(), tmp_path) as k:
        await add_person(k, "alice", Role.ADMIN)
        await add_person(k, "bob")
        async with client(k) as api:  # made through the REST API: not the file's
            assert (await api.put("/api/v1/channels/hook", json=HOOK)).status_code == 200
        async with browser(k) as b:
            await sign_in(b, "alice")
            assert 'href="/settings/config"' in (await b.get("/settings")).text
            page = await b.get("/settings/config")
            assert page.status_code == 200, page.text
            html = page.text
            for section in ("policies", "services", "rotations", "maintenance", "status_pages"):
                assert f'id="s-{section}"' in html, section
            assert "<code>default</code>" in html and "<code>nightly-backup</code>" in html
            assert "s3cr3t" not in html and "********" in html
            hook = html.split("<code>hook</code>", 1)[1].split("</summary>", 1)[0]
            assert "YAML" not in hook  # the REST API's
            policy = html.split("<code>default</code>", 1)[1].split("</summary>", 1)[0]
            assert "YAML (read-only)" in policy
            assert "Monitors: 1" in html and "<code>m1</code>" not in html
        async with browser(k) as b:
            await sign_in(b, "bob")  # a login without an administrator's role
            assert (await b.get("/settings/config")).status_code == 403
