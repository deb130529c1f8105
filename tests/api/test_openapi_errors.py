"""The OpenAPI document lists every status an operation can answer, each error with one shape."""

from __future__ import annotations

from koban.api.errors import ErrorBody
from tests.support.factories import KEY, make_config
from tests.support.system import client, running_system

VENDOR_SHAPED = {"/v2/enqueue"}  # PagerDuty Events v2's own error shape, which its senders read


async def test_every_error_answer_is_documented_with_the_one_error_shape(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k, admin=False) as c:
        spec = (await c.get("/openapi.json")).json()
    assert spec["components"]["schemas"]["Error"]["required"] == ["detail"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    wrong = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            needed = {"431"}
            if any(p["in"] == "path" for p in op.get("parameters", [])) and "ingest" not in op["tags"]:
                needed.add("404")
            if "requestBody" in op:
                needed |= {"413", "422"}
            if needed - codes:
                wrong.append(f"{method} {path} lacks {sorted(needed - codes)}")
            for code, answer in op["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if (
                    int(code) >= 400
                    and path not in VENDOR_SHAPED
                    and schema != {"$ref": "#/components/schemas/Error"}
                ):
                    wrong.append(f"{method} {path} {code}: {schema}")
    assert wrong == []


async def test_errors_from_every_layer_have_the_documented_shape(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path, max_body_bytes=1024) as k, client(k) as c:
        answers = [
            await c.get("/api/v1/incidents/12345"),  # a handler's HTTPException
            await c.get("/api/v1/incidents/x"),  # FastAPI's request validation
            await c.get("/api/v1/incidents", headers={"Authorization": "Bearer nope"}),  # the guard
            await c.put("/api/v1/policies/p", content=b"x" * 2000),  # the body limit middleware
            await c.post(f"/api/v1/ingest/{KEY}", content=b"{"),  # ingest: not JSON
            await c.post("/api/v1/ingest/unknown", json={"summary": "x"}),  # ingest: unknown key
        ]
    assert [a.status_code for a in answers] == [404, 422, 401, 413, 400, 401]
    for a in answers:
        ErrorBody.model_validate(a.json())
    # One shape: detail is always text; validation lists its issues apart (issue 17 item 17).
    assert all(isinstance(a.json()["detail"], str) for a in answers)
    assert answers[1].json()["detail"].startswith("path.incident_id: ")
    assert answers[1].json()["issues"][0]["loc"] == ["path", "incident_id"]
    assert answers[5].json()["error"] == answers[5].json()["detail"]  # what ingest answered before


async def test_a_405_allows_every_method_the_path_serves(db_url, tmp_path):
    """GET and PUT on one path are two routes; Allow names both, not the first one matched."""
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as c:
        answer = await c.request("OPTIONS", "/api/v1/policies/p")
        spec = (await c.get("/openapi.json")).json()
    documented = sorted(m.upper() for m in spec["paths"]["/api/v1/policies/{ident}"])
    assert answer.status_code == 405
    assert sorted(answer.headers["allow"].split(", ")) == documented == ["DELETE", "GET", "PUT"]
    ErrorBody.model_validate(answer.json())


async def test_a_body_that_is_not_utf8_is_a_documented_400(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as c:
        answer = await c.post(
            "/api/v1/incidents/1/acknowledge",
            content=b"\xff\xfeG",
            headers={"Content-Type": "application/json"},
        )
        spec = (await c.get("/openapi.json")).json()
    assert answer.status_code == 400 and isinstance(answer.json()["detail"], str)
    assert "400" in spec["paths"]["/api/v1/incidents/{incident_id}/acknowledge"]["post"]["responses"]


async def test_metrics_csv_and_vendor_callbacks_are_in_the_document_as_answered(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k, client(k) as c:
        spec = (await c.get("/openapi.json")).json()
        metrics = await c.get("/metrics")
        forged = await c.post("/twilio/voice/status?t=x", data={"CallSid": "CA1"})
        click = await c.post("/integrations/slack/interactivity", data={"payload": "{}"})
    paths = spec["paths"]
    assert metrics.headers["content-type"].startswith("text/plain")
    assert list(paths["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
    assert "text/csv" in paths["/api/v1/reports/response"]["get"]["responses"]["200"]["content"]
    for path in (
        "/twilio/voice/twiml",
        "/twilio/voice/gather",
        "/twilio/voice/status",
        "/twilio/sms/inbound",
    ):
        assert {"400", "403", "404", "415"} <= set(paths[path]["post"]["responses"]), path
    assert {"200", "401", "404"} <= set(paths["/integrations/slack/interactivity"]["post"]["responses"])
    for answer in (forged, click):
        assert str(answer.status_code) in paths[answer.request.url.path]["post"]["responses"]
        ErrorBody.model_validate(answer.json())
