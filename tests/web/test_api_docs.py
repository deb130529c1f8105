"""``/docs`` works offline: Swagger UI's files come from the package (npm's swagger-ui-dist), its
start-up is a file, and the page keeps the CSP with no inline script."""

from __future__ import annotations

import re

import pytest

from koban.web.api_docs import installed
from tests.support.factories import make_config
from tests.support.system import client, running_system


async def test_the_api_reference_is_served_by_koban_under_the_same_csp(tmp_path):
    if not installed():
        pytest.skip("Swagger UI's files are not installed: `make vendor` (npm ci)")
    db_url = f"sqlite:///{tmp_path / 'k.db'}"
    async with running_system(db_url, make_config(), tmp_path) as k, client(k, admin=False) as c:
        page = await c.get("/docs")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "cdn" not in page.text.lower() and "https://" not in page.text
        assert re.findall(r"<script[^>]*>\s*</script>", page.text), "scripts are files, not inline"
        assert not re.search(r"<script>[^<]+</script>", page.text)
        for src in re.findall(r'(?:src|href)="(/[^"]+)"', page.text):
            assert (await c.get(src)).status_code == 200, src
        assert (await c.get("/vendor/swagger-ui/package.json")).status_code == 404  # only what it loads
        assert (await c.get("/vendor/swagger-ui/..%2Fpackage.json")).status_code == 404
        assert (await c.get("/redoc")).status_code == 404  # it loaded from a CDN: gone
