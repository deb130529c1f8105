"""The reports page, in process: each report as a table from ``reports/``, grouped on request, with
its CSV link, a bad period refused with words, the page print-friendly and in Japanese."""

from __future__ import annotations

from koban.auth.permissions import Role
from tests.support.factories import make_config
from tests.support.system import client, running_system
from tests.web.pages_support import add_person, browser, open_incident, sign_in


async def test_the_reports_show_as_tables_with_a_csv_link(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as admin:
        incident = await open_incident(admin, "disk full")
        k.clock.advance(90)
        assert (await admin.post(f"/api/v1/incidents/{incident}/acknowledge")).status_code == 200
        k.clock.advance(60)
        await add_person(k, "alice", Role.VIEWER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            page = await b.get("/reports", params={"name": "response", "by": "service"})
            assert page.status_code == 200
            assert '<table class="report">' in page.text and "(total)" in page.text and ">web<" in page.text
            assert "time_to_acknowledge.p50" in page.text and ">90.0<" in page.text
            assert "/api/v1/reports/response?since=30d&amp;tz=UTC&amp;format=csv&amp;by=service" in page.text
            csv = await b.get(
                "/api/v1/reports/response", params={"since": "30d", "format": "csv", "by": "service"}
            )
            assert csv.status_code == 200 and "time_to_acknowledge.p50" in csv.text
            for name in ("wake", "interruptions", "on-call", "availability"):
                assert (await b.get("/reports", params={"name": name})).status_code == 200, name
            bad = await b.get("/reports", params={"since": "yesterday-ish"})
            assert bad.status_code == 422 and 'role="alert"' in bad.text
            css = (await b.get("/static/koban.css")).text
            assert "@media print" in css and ".no-print" in css


async def test_the_reports_page_speaks_japanese(db_url, tmp_path):
    data = make_config().model_dump(mode="json")
    data["people"][0]["language"] = "ja"
    async with running_system(db_url, type(make_config()).model_validate(data), tmp_path) as k:
        await add_person(k, "alice", Role.VIEWER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            page = (await b.get("/reports")).text
            assert "レポート" in page and "CSV" in page
