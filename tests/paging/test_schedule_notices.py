"""Schedule notices: a warning through the schedule's team channel before an uncovered gap, and
"you are on call from ..." to the incoming person with the open incidents; each at most once."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import sqlalchemy as sa

from koban.config.model import ConfigFile
from koban.core.clock import FakeClock
from koban.db.schema_schedules import schedule_notices
from koban.paging.schedule_notices import scan, send_due
from tests.support.factories import KEY, make_config
from tests.support.system import client, running_system

# Thursday 2027-01-14 08:30 in Paris; bob's week; the layer is on 09:00-18:00 on weekdays.
THURSDAY = datetime(2027, 1, 14, 7, 30, tzinfo=UTC).timestamp()


def business_hours(**notices: object) -> ConfigFile:
    data = make_config().model_dump(mode="json")
    data["teams"] = [{"id": "web", "members": [{"person": "carol", "role": "manager"}]}]
    data["services"][0]["team"] = "web"
    layer = {
        "name": "days",
        "members": ["alice", "bob"],
        "start": "2027-01-04",
        "handoff": "09:00",
        "restrictions": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}],
    }
    data["schedules"] = [
        {"id": "biz", "team": "web", "timezone": "Europe/Paris", "layers": [layer], "notices": notices}
    ]
    return ConfigFile.model_validate(data)


async def _keys(k) -> list[str]:
    async with k.db.read() as conn:
        return sorted(r.key for r in await conn.execute(sa.select(schedule_notices.c.key)))


async def test_gaps_are_warned_of_and_the_incoming_person_told_once_each(db_url, tmp_path):
    cfg = business_hours(channel="log", gap_warning="2d", handoff="1h", handoff_summary=True)
    async with running_system(db_url, cfg, tmp_path, clock=FakeClock(THURSDAY)) as k, client(k) as c:
        made = await c.post(f"/api/v1/ingest/{KEY}", json={"summary": "disk full", "dedup_key": "d"})
        assert made.status_code in (200, 202), made.text
        assert await scan(k.paging, k.clock.now()) == 3
        # Another instance, the same minute or a minute later: nothing new.
        assert await asyncio.gather(scan(k.paging, k.clock.now()), scan(k.paging, k.clock.now())) == [0, 0]
        k.clock.advance(60)  # type: ignore[attr-defined]
        assert await scan(k.paging, k.clock.now()) == 0
        thu, fri = "1799946000", "1800032400"  # 18:00 Paris on the 14th and the 15th
        assert await _keys(k) == [
            f"gap:biz:{thu}:log",
            f"gap:biz:{fri}:log",
            "handoff:biz:1799913600:bob:log",
        ]
        assert await send_due(k.paging) == 3
        lines = k.channel("log").lines  # type: ignore[attr-defined]
        assert (
            "NOTIFY log: biz: nobody is on call from Thu 14 Jan 18:00 (Europe/Paris) to Fri 15 Jan 09:00"
            in ("\n".join(lines))
        )
        [told] = [line for line in lines if line.startswith("NOTIFY bob:")]
        assert told.startswith("NOTIFY bob: You are on call in biz from Thu 14 Jan 09:00 (Europe/Paris)")
        assert "Open incidents: #" in told and "disk full" in told
        assert await send_due(k.paging) == 0


async def test_without_notices_nothing_is_queued(db_url, tmp_path):
    data = business_hours().model_dump(mode="json")
    data["schedules"][0]["notices"] = None
    async with running_system(
        db_url, ConfigFile.model_validate(data), tmp_path, clock=FakeClock(THURSDAY)
    ) as k:
        assert await scan(k.paging, k.clock.now()) == 0


async def test_the_handoff_goes_to_each_text_channel_of_the_persons_notify_list_never_a_voice_call(
    db_url, tmp_path
):
    data = business_hours(handoff="1h").model_dump(mode="json")
    data["channels"] += [
        {"id": "mail", "type": "email", "host": "127.0.0.1", "from": "koban@example.test"},
        {"id": "phone", "type": "voice"},
    ]
    next(p for p in data["people"] if p["id"] == "bob")["notify"] = ["phone", "mail", "log"]
    cfg = ConfigFile.model_validate(data)
    async with running_system(db_url, cfg, tmp_path, clock=FakeClock(THURSDAY)) as k:
        assert await scan(k.paging, k.clock.now()) == 2
        assert await _keys(k) == ["handoff:biz:1799913600:bob:log", "handoff:biz:1799913600:bob:mail"]


async def test_the_running_worker_scans_and_sends_the_notices(db_url, tmp_path):
    cfg = business_hours(handoff="1h")
    async with running_system(db_url, cfg, tmp_path, worker=True, clock=FakeClock(THURSDAY)) as k:
        for _ in range(400):  # generous: the machine is busy
            lines = k.channel("log").lines  # type: ignore[attr-defined]
            if lines:
                break
            await asyncio.sleep(0.05)
        assert [line.split(" from ")[0] for line in lines] == ["NOTIFY bob: You are on call in biz"]
        assert await _keys(k) == ["handoff:biz:1799913600:bob:log"]


async def test_the_slack_user_group_names_who_is_on_call_after_each_handoff(db_url, tmp_path):
    from koban.fakes.slack import FakeSlack

    async with FakeSlack() as fake:
        data = business_hours(usergroup={"channel": "slack", "id": "S0ONCALL"}).model_dump(mode="json")
        data["channels"].append({"id": "slack", "type": "slack", "token": "xoxb-t", "channel": "C0OPS"})
        data["channels"][-1]["base_url"] = fake.base_url
        for p, slack_id in (("alice", "U0ALICE"), ("bob", "U0BOB")):
            next(x for x in data["people"] if x["id"] == p)["contacts"]["slack"] = slack_id
        cfg = ConfigFile.model_validate(data)
        at = THURSDAY + 3600  # 09:30 Paris: bob's shift of the day
        async with running_system(db_url, cfg, tmp_path, clock=FakeClock(at)) as k:
            assert await scan(k.paging, k.clock.now()) == 1
            assert await send_due(k.paging) == 1
            assert fake.usergroups == {"S0ONCALL": ["U0BOB"]}
            k.clock.advance(60)  # type: ignore[attr-defined]
            assert await scan(k.paging, k.clock.now()) == 0  # the same shift: no second call
            k.clock.advance(9 * 3600)  # type: ignore[attr-defined]  # 18:30: a gap, the group stays
            assert await scan(k.paging, k.clock.now()) == 0
            k.clock.advance(87 * 3600)  # type: ignore[attr-defined]  # Monday 09:30: alice's week
            assert await scan(k.paging, k.clock.now()) == 1
            fake.fail_next("usergroups.users.update", status=429, retry_after=1)
            await send_due(k.paging)  # rate limited: retried later
            assert fake.usergroups == {"S0ONCALL": ["U0BOB"]}
            k.clock.advance(120)  # type: ignore[attr-defined]
            assert await send_due(k.paging) == 1
            assert fake.usergroups == {"S0ONCALL": ["U0ALICE"]}
        assert fake.requests.count("usergroups.users.update") == 3


def test_a_user_group_needs_a_slack_channel():
    from koban.config.references import check_references

    data = business_hours(usergroup={"channel": "log", "id": "S0ONCALL"}).model_dump(mode="json")
    problems = check_references(ConfigFile.model_validate(data))
    assert any("a user group is synced through Slack" in msg for _, msg in problems)


async def test_a_slow_send_keeps_the_batchs_leases_so_another_instance_sends_nothing_twice(db_url, tmp_path):
    """Issue 17 item 16: leases are 3 s now; a notice waiting on a slow vendor must not let another
    instance claim (and send again) the notices this one has claimed and not yet sent."""
    cfg = business_hours(channel="log", gap_warning="2d", handoff="1h")
    async with running_system(db_url, cfg, tmp_path, clock=FakeClock(THURSDAY)) as k:
        assert await scan(k.paging, k.clock.now()) == 3
        log_channel = k.channel("log")  # type: ignore[attr-defined]
        sending, release = asyncio.Event(), asyncio.Event()
        real_send = log_channel.send

        async def slow_send(n):  # the vendor takes its time over the first notice
            sending.set()
            await release.wait()
            return await real_send(n)

        log_channel.send = slow_send
        a = asyncio.create_task(send_due(k.paging))
        await asyncio.wait_for(sending.wait(), 30)
        k.clock.advance(60)  # type: ignore[attr-defined]  # far past the lease A took
        c = schedule_notices.c

        async def renewed() -> bool:
            async with k.db.read() as conn:
                leases = (await conn.execute(sa.select(c.lease_until))).scalars().all()
            return all(until is not None and until > k.clock.now() for until in leases)

        for _ in range(600):  # A's renewer runs on its own, a third of a lease apart
            if await renewed():
                break
            await asyncio.sleep(0.05)
        assert await renewed(), "A never renewed the leases of the notices it holds"
        b = dataclasses.replace(k.paging, owner="B")
        assert await send_due(b) == 0  # A is slow, not dead: B takes nothing
        release.set()
        assert await asyncio.wait_for(a, 30) == 3
        async with k.db.read() as conn:
            assert (await conn.execute(sa.select(c.state))).scalars().all() == ["sent"] * 3
