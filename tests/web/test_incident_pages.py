"""The incident pages, in process: who sees what, forms that act (with the session's CSRF token),
the links koban sends opening the right page, text escaped, the page in the person's language."""

from __future__ import annotations

import sqlalchemy as sa

from koban.auth.permissions import Role
from koban.catalog.snapshot import hash_key
from koban.config.model import ConfigFile
from koban.db import schema as t
from koban.db.schema_auth import audit_events
from tests.support.factories import make_config
from tests.support.system import client, running_system
from tests.web.pages_support import add_person, browser, form_csrf, open_incident, sign_in

OTHER_KEY = "test-key-db-0123456789abcdef"


def _config(**person_settings: object):
    data = make_config().model_dump(mode="json")
    data["people"][1].update(person_settings)  # bob
    return type(make_config()).model_validate(data)


async def _status(k, incident: int) -> str:
    async with k.db.read() as conn:
        return str(
            (await conn.execute(sa.select(t.incidents.c.status).where(t.incidents.c.id == incident))).scalar()
        )


async def test_a_signed_out_browser_is_sent_to_sign_in_and_back(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as admin:
        incident = await open_incident(admin, "disk full")
        await add_person(k, "alice", Role.RESPONDER)
        async with browser(k) as b:
            away = await b.get(f"/incidents/{incident}")
            assert away.status_code == 303
            assert away.headers["location"] == f"/login?next=/incidents/{incident}"
            await sign_in(b, "alice")
            assert (await b.get(f"/incidents/{incident}")).status_code == 200
        async with browser(k, accept="application/json") as script:
            assert (await script.get("/incidents")).status_code == 401  # not a browser: the API's answer


async def test_the_list_shows_open_incidents_first_and_filters_them(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as admin:
        first = await open_incident(admin, "old and fixed", dedup_key="a", severity="warning")
        second = await open_incident(admin, "cpu hot", dedup_key="b", severity="critical")
        third = await open_incident(admin, "<b>bold</b> summary", dedup_key="c", severity="warning")
        assert (await admin.post(f"/api/v1/incidents/{first}/resolve")).status_code == 200
        await add_person(k, "alice", Role.VIEWER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            page = (await b.get("/incidents", params={"state": "all"})).text
            assert page.index(f"#{third}<") < page.index(f"#{second}<") < page.index(f"#{first}<")
            assert "&lt;b&gt;bold&lt;/b&gt; summary" in page and "<b>bold</b>" not in page
            default = (await b.get("/incidents")).text
            assert f"#{first}<" not in default and f"#{second}<" in default  # open ones only
            warnings = (await b.get("/incidents", params={"severity": "warning", "state": "all"})).text
            assert f"#{second}<" not in warnings and f"#{first}<" in warnings
            rows = await b.get("/incidents", params={"fragment": "rows", "state": "resolved"})
            assert rows.text.lstrip().startswith("<tr") and f"#{first}<" in rows.text
            assert "cpu hot" not in rows.text


async def test_the_list_filters_by_team_and_by_when_an_incident_was_opened(db_url, tmp_path):
    data = make_config().model_dump(mode="json")
    data["teams"] = [{"id": "ops"}, {"id": "dbas"}]
    data["services"][0]["team"] = "ops"
    other = {**data["services"][0], "id": "db", "team": "dbas"}
    other["integrations"] = [{"id": "db-generic", "type": "generic", "key_hashes": [hash_key(OTHER_KEY)]}]
    data["services"].append(other)
    cfg = ConfigFile.model_validate(data)
    async with running_system(db_url, cfg, tmp_path) as k, client(k) as admin:
        old = await open_incident(admin, "web slow", dedup_key="a")
        k.clock.advance(2 * 3600)
        r = await admin.post(f"/api/v1/ingest/{OTHER_KEY}", json={"summary": "db down", "dedup_key": "b"})
        new = int(r.json()["incidents"][0]["incident_id"])
        await add_person(k, "alice", Role.VIEWER)
        async with browser(k) as b:
            await sign_in(b, "alice")
            page = (await b.get("/incidents")).text
            assert '<option value="dbas">' in page and f"#{old}<" in page and f"#{new}<" in page
            ops = (await b.get("/incidents", params={"team": "ops"})).text
            assert f"#{old}<" in ops and f"#{new}<" not in ops
            recent = (await b.get("/incidents", params={"opened": "1h"})).text
            assert f"#{new}<" in recent and f"#{old}<" not in recent
            both = (await b.get("/incidents", params={"opened": "24h", "team": "dbas"})).text
            assert f"#{new}<" in both and f"#{old}<" not in both
            # Unknown choices are no filter, never an error.
            odd = await b.get("/incidents", params={"opened": "forever", "team": "nope"})
            assert odd.status_code == 200 and f"#{old}<" in odd.text and f"#{new}<" in odd.text


async def test_the_link_koban_sends_opens_the_incident_with_its_timeline_alerts_and_labels(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as admin:
        incident = await open_incident(
            admin, "disk full on <db-1>", dedup_key="disk", labels={"host": "db-1", "team": "<ops>"}
        )
        await add_person(k, "alice", Role.VIEWER)
        link = (
            f"{k.settings.effective_public_url}/incidents/{incident}"  # as paging/notifications.py builds it
        )
        async with browser(k) as b:
            await sign_in(b, "alice")
            page = await b.get(link.removeprefix(k.settings.effective_public_url))
            assert page.status_code == 200
            assert "disk full on &lt;db-1&gt;" in page.text
            assert "host=db-1" in page.text and "team=&lt;ops&gt;" in page.text
            assert "incident.triggered" in page.text and "alert.received" in page.text
            assert "<code>disk</code>" in page.text  # the linked alert's key
            assert "/acknowledge" not in page.text  # a viewer is shown no buttons
            missing = await b.get("/incidents/999999")
            assert missing.status_code == 404 and "does not exist" in missing.text
            assert "<html" in missing.text  # a page, not JSON


async def test_acknowledging_from_the_page_needs_the_forms_token_and_is_recorded_as_the_person(
    db_url, tmp_path
):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as admin:
        incident = await open_incident(admin, "disk full")
        await add_person(k, "bob", Role.RESPONDER)
        async with browser(k) as b:
            await sign_in(b, "bob")
            page = await b.get(f"/incidents/{incident}")
            forged = await b.post(f"/incidents/{incident}/acknowledge", data={"csrf": "x" * 43})
            assert forged.status_code == 403 and await _status(k, incident) == "triggered"
            done = await b.post(f"/incidents/{incident}/acknowledge", data={"csrf": form_csrf(page.text)})
            assert done.status_code == 303 and done.headers["location"] == f"/incidents/{incident}"
            assert await _status(k, incident) == "acknowledged"
            shown = (await b.get(f"/incidents/{incident}")).text
            assert "bob (ui)" in shown
        async with k.db.read() as conn:
            entry = (
                await conn.execute(
                    sa.select(audit_events).where(audit_events.c.action == "incident.acknowledge")
                )
            ).one()
        assert (entry.actor, entry.via) == ("bob", "ui")


async def test_an_escalate_form_posted_again_after_the_incident_moved_on_is_refused(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as admin:
        incident = await open_incident(admin, "disk full")
        await add_person(k, "bob", Role.RESPONDER)
        async with browser(k) as b:
            await sign_in(b, "bob")
            csrf = form_csrf((await b.get(f"/incidents/{incident}")).text)
            form = {"csrf": csrf, "seen_step": "0", "seen_loop": "0"}
            assert (await b.post(f"/incidents/{incident}/escalate", data=form)).status_code == 303
            again = await b.post(f"/incidents/{incident}/escalate", data=form)
            assert again.status_code == 409 and "<html" in again.text
        async with k.db.read() as conn:
            step = (
                await conn.execute(sa.select(t.incidents.c.esc_step).where(t.incidents.c.id == incident))
            ).scalar()
        assert step == 1  # moved once, not twice


async def test_the_page_shows_time_to_wake_and_the_plan_and_reassigns_to_a_person(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as admin:
        incident = await open_incident(admin, "disk full")
        await add_person(k, "bob", Role.RESPONDER)
        async with browser(k) as b:
            await sign_in(b, "bob")
            page = (await b.get(f"/incidents/{incident}")).text
            assert "Time to wake" in page and page.count("not yet") == 3  # failed, nobody paged yet
            assert 'aria-current="step"' in page and "carol (log)" in page  # the plan: step 2 pages carol
            bad = await b.post(
                f"/incidents/{incident}/reassign", data={"csrf": form_csrf(page), "person": "zed"}
            )
            assert bad.status_code == 422 and "zed" in bad.text
            done = await b.post(
                f"/incidents/{incident}/reassign", data={"csrf": form_csrf(page), "person": "carol"}
            )
            assert done.status_code == 303
            shown = (await b.get(f"/incidents/{incident}")).text
            assert "reassigned" in shown and shown.count("not yet") == 2  # bob reached it by acting
        api = (await admin.get(f"/api/v1/incidents/{incident}")).json()
        assert api["time_to_wake"]["first_reached"]["who"] == "bob"  # one loader, both doors
        async with k.db.read() as conn:
            entry = (
                await conn.execute(
                    sa.select(audit_events).where(audit_events.c.action == "incident.reassign")
                )
            ).one()
        assert (entry.actor, entry.via) == ("bob", "ui")


async def test_bulk_actions_act_only_where_the_person_may_respond(db_url, tmp_path):
    data = make_config().model_dump(mode="json")
    data["teams"] = [{"id": "web", "members": [{"person": "bob", "role": "responder"}]}, {"id": "db"}]
    data["services"].append({**data["services"][0], "id": "db", "team": "db", "integrations": []})
    data["services"][0]["team"] = "web"
    cfg = type(make_config()).model_validate(data)
    async with running_system(db_url, cfg, tmp_path) as k, client(k) as admin:
        ours = [await open_incident(admin, f"web {i}", dedup_key=f"w{i}") for i in range(2)]
        async with k.db.begin() as conn:  # an incident of team db, which bob may not see or touch
            await conn.execute(
                sa.insert(t.incidents).values(
                    id=100,
                    service_id="db",
                    incident_key="x",
                    status="triggered",
                    severity="critical",
                    summary="db thing",
                    created_at=k.clock.now(),
                    updated_at=k.clock.now(),
                )
            )
        await add_person(k, "bob")
        async with browser(k) as b:
            await sign_in(b, "bob")
            listed = await b.get("/incidents")
            assert "db thing" not in listed.text and "web 0" in listed.text
            form = {"csrf": form_csrf(listed.text), "action": "acknowledge", "id": [*map(str, ours), "100"]}
            form["back"] = "/incidents?state=open"
            done = await b.post("/incidents/bulk", data=form)
            assert done.status_code == 303
            assert done.headers["location"] == "/incidents?state=open&done=2&failed=1"
            assert [await _status(k, i) for i in ours] == ["acknowledged", "acknowledged"]
            assert await _status(k, 100) == "triggered"
            assert (await b.get("/incidents/100")).status_code == 403
            replay = await b.post("/incidents/bulk", data=form)  # the same form again: nothing new
            assert replay.headers["location"].endswith("done=0&failed=3")


async def test_a_japanese_speaker_reads_the_pages_in_japanese_in_their_time_zone(db_url, tmp_path):
    cfg = _config(language="ja-JP", timezone="Asia/Tokyo")
    async with running_system(db_url, cfg, tmp_path) as k, client(k) as admin:
        incident = await open_incident(admin, "disk full", severity="critical")
        await add_person(k, "bob", Role.RESPONDER)
        await add_person(k, "alice", Role.RESPONDER)
        await add_person(k, "dave", Role.VIEWER)  # a login with no person in the config
        async with browser(k) as b:
            await sign_in(b, "bob")
            page = (await b.get(f"/incidents/{incident}")).text
            assert '<html lang="ja">' in page and "確認する" in page and "重大" in page
            assert "2027/01/15 17:00:00" in page  # 08:00 UTC on the fake clock, in Tokyo
        async with browser(k, **{"accept-language": "ja,en;q=0.5"}) as b:
            await sign_in(b, "dave")  # no language of his own: his browser's
            assert "インシデント" in (await b.get("/incidents")).text
            await sign_in(b, "alice")  # the config's language (en-US by default) wins over the browser's
            assert "Acknowledge selected" in (await b.get("/incidents")).text


async def test_a_japanese_speaker_acknowledging_twice_is_told_why_in_japanese(db_url, tmp_path):
    async with running_system(db_url, _config(language="ja-JP"), tmp_path) as k, client(k) as admin:
        incident = await open_incident(admin, "disk full")
        await add_person(k, "bob", Role.RESPONDER)
        async with browser(k) as b:
            await sign_in(b, "bob")
            form = {"csrf": form_csrf((await b.get(f"/incidents/{incident}")).text)}
            assert (await b.post(f"/incidents/{incident}/acknowledge", data=form)).status_code == 303
            again = await b.post(f"/incidents/{incident}/acknowledge", data=form)
            assert (
                again.status_code == 409
                and "インシデントはすでに bob さんが確認済みにしています" in again.text
            )
