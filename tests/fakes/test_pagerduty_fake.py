import aiohttp

from koban.fakes.pagerduty import FakePagerDuty, validate

KEY = "a" * 32


def trigger(key: str | None = "k1") -> dict:
    event = {
        "routing_key": KEY,
        "event_action": "trigger",
        "payload": {"summary": "s", "source": "h", "severity": "error"},
    }
    if key is not None:
        event["dedup_key"] = key
    return event


async def _post(pd: FakePagerDuty, body: dict) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as s, s.post(pd.url, json=body) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_accepted_event_answers_202_with_the_documented_body():
    async with FakePagerDuty() as pd:
        assert await _post(pd, trigger()) == (
            202,
            {"status": "success", "message": "Event processed", "dedup_key": "k1"},
        )


async def test_trigger_without_dedup_key_gets_a_generated_one():
    async with FakePagerDuty() as pd:
        status, body = await _post(pd, trigger(key=None))
        assert status == 202 and len(body["dedup_key"]) == 32


async def test_invalid_event_answers_400_with_errors_list():
    async with FakePagerDuty() as pd:
        status, body = await _post(pd, {"routing_key": "x", "event_action": "resolve"})
        assert status == 400 and body["status"] == "invalid event"
        assert body["errors"][0] == "Length of 'routing_key' is incorrect (should be 32 characters)"
        assert any("dedup_key" in e for e in body["errors"])


async def test_resolve_of_unknown_key_is_dropped_and_new_trigger_after_resolve_opens_new_alert():
    async with FakePagerDuty() as pd:
        resolve = {"routing_key": KEY, "event_action": "resolve", "dedup_key": "k1"}
        assert (await _post(pd, resolve))[0] == 202 and pd.alerts == {}
        await _post(pd, trigger())
        await _post(pd, resolve)
        await _post(pd, trigger())
        alert = pd.alert(KEY, "k1")
        assert alert["status"] == "triggered" and alert["number"] == 2


def test_validation_requires_trigger_payload_fields():
    errors = validate({"routing_key": KEY, "event_action": "trigger", "payload": {"severity": "bad"}})
    assert len(errors) == 3


async def test_a_summary_over_1024_characters_or_an_event_over_512_kb_is_refused_like_pagerduty():
    long_summary = trigger()
    long_summary["payload"]["summary"] = "x" * 1025
    huge = trigger("k2")
    huge["payload"]["custom_details"] = {"log": "y" * (512 * 1024)}
    async with FakePagerDuty() as pd:
        status, body = await _post(pd, long_summary)
        assert status == 400 and body["errors"] == ["'payload.summary' is too long (max 1024 characters)"]
        status, body = await _post(pd, huge)
        assert status == 400 and "512 KB" in body["errors"][0]
        assert pd.events == []
