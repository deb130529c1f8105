from __future__ import annotations

import ssl

from koban.probes import Conditions, HttpProbeConfig, probe_http
from tests.support.server_fixtures import LEAF_EXPIRY
from tests.support.servers import HttpServer


def make_config(url: str, **kw) -> HttpProbeConfig:
    kw.setdefault("timeout", 2.0)
    return HttpProbeConfig(url, **kw)


async def test_ok_response_succeeds_with_status_body_and_phases(http_server: HttpServer) -> None:
    r = await probe_http(make_config(http_server.base + "/ok"))
    assert r.success, r.error
    assert (r.status_code, r.body, r.http_version) == (200, b"all ok", "1.1")
    assert r.headers["content-type"] == "text/plain"
    assert r.phases.resolve == 0.0  # IP literal: no lookup
    assert r.phases.connect > 0 and r.phases.processing > 0 and r.phases.tls == 0
    assert r.duration >= r.phases.connect + r.phases.processing + r.phases.transfer
    assert r.ip == "127.0.0.1" and r.connected


async def test_hostname_is_resolved_and_timed(http_server: HttpServer) -> None:
    r = await probe_http(make_config(f"http://localhost:{http_server.port}/ok"))
    assert r.success, r.error
    assert r.phases.resolve > 0
    assert r.ip == "127.0.0.1"  # ip4 preferred even if localhost also maps to ::1
    assert http_server.requests[-1].headers["host"] == f"localhost:{http_server.port}"


async def test_request_sends_method_headers_body_and_connection_close(http_server: HttpServer) -> None:
    cfg = make_config(http_server.base + "/echo", method="POST", headers={"X-Token": "abc"}, body=b"ping")
    r = await probe_http(cfg)
    seen = http_server.requests[-1]
    assert r.success
    assert (seen.method, seen.body) == ("POST", b"ping")
    assert seen.headers["x-token"] == "abc"
    assert seen.headers["connection"] == "close"


async def test_non_2xx_fails_with_readable_reason(http_server: HttpServer) -> None:
    r = await probe_http(make_config(http_server.base + "/503"))
    assert not r.success
    assert r.status_code == 503
    assert r.error == "HTTP status 503, expected 2xx"


async def test_valid_status_list_overrides_2xx(http_server: HttpServer) -> None:
    r = await probe_http(make_config(http_server.base + "/503", valid_status=(503,)))
    assert r.success


async def test_closed_port_fails_as_connection_refused(closed_port: int) -> None:
    r = await probe_http(make_config(f"http://127.0.0.1:{closed_port}/"))
    assert not r.success
    assert r.error == f"connection refused by 127.0.0.1:{closed_port}"
    assert not r.connected


async def test_unknown_host_fails_in_dns() -> None:
    r = await probe_http(make_config("http://no-such-host.invalid/"))
    assert not r.success
    assert r.error.startswith("DNS lookup for no-such-host.invalid failed")


async def test_slow_endpoint_times_out_and_says_in_which_phase(http_server: HttpServer) -> None:
    r = await probe_http(make_config(http_server.base + "/slow", timeout=0.3))
    assert not r.success
    assert r.error == "timed out after 0.3s during processing"
    assert 0.3 <= r.duration < 1.0


async def test_body_that_stalls_times_out_during_transfer(http_server: HttpServer) -> None:
    r = await probe_http(make_config(http_server.base + "/slow-body", timeout=0.3))
    assert r.error == "timed out after 0.3s during transfer"
    assert r.status_code == 200 and r.body == b"partial"


async def test_truncated_body_fails(http_server: HttpServer) -> None:
    r = await probe_http(make_config(http_server.base + "/truncated"))
    assert not r.success
    assert r.error == "connection closed by server before the response was complete"


async def test_chunked_body_is_reassembled(http_server: HttpServer) -> None:
    r = await probe_http(make_config(http_server.base + "/chunked"))
    assert r.success, r.error
    assert r.body == b"hello chunked world"
    assert r.phases.transfer > 0.01  # three chunks, 10 ms apart


async def test_body_read_until_close_without_length(http_server: HttpServer) -> None:
    r = await probe_http(make_config(http_server.base + "/until-close"))
    assert r.success and r.body == b"body until close" and r.http_version == "1.0"


async def test_interim_100_continue_is_skipped(http_server: HttpServer) -> None:
    r = await probe_http(make_config(http_server.base + "/continue"))
    assert r.success and r.status_code == 204


async def test_body_is_capped_but_fully_read(http_server: HttpServer) -> None:
    r = await probe_http(make_config(http_server.base + "/big", body_limit=1000))
    assert r.success
    assert len(r.body) == 1000 and r.body_length == 300_000


async def test_redirects_are_followed_and_phases_summed(http_server: HttpServer) -> None:
    r = await probe_http(make_config(http_server.base + "/r1"))
    assert r.success and r.redirects == 2 and r.body == b"all ok"
    assert [q.path for q in http_server.requests] == ["/r1", "/r2", "/ok"]  # three connections
    assert r.phases.connect > 0 and r.phases.processing > 0


async def test_redirects_not_followed_when_disabled(http_server: HttpServer) -> None:
    r = await probe_http(make_config(http_server.base + "/r1", follow_redirects=False, valid_status=(301,)))
    assert r.success and r.status_code == 301 and r.redirects == 0


async def test_redirect_loop_stops_after_limit(http_server: HttpServer) -> None:
    r = await probe_http(make_config(http_server.base + "/loop", max_redirects=3))
    assert not r.success
    assert r.error.startswith("stopped after 3 redirects")


async def test_303_turns_post_into_get(http_server: HttpServer) -> None:
    r = await probe_http(make_config(http_server.base + "/see-other", method="POST", body=b"x"))
    assert r.success
    assert http_server.requests[-1].method == "GET"


async def test_conditions_decide_success_and_say_which_failed(http_server: HttpServer) -> None:
    conditions = Conditions.parse(["[STATUS] == 200", "[BODY].data.status == DOWN", "[RESPONSE_TIME] < 5000"])
    r = await probe_http(make_config(http_server.base + "/json", conditions=conditions))
    assert not r.success
    assert [c.success for c in r.conditions] == [True, False, True]
    assert r.error == "condition failed: [BODY].data.status == DOWN (actual: UP)"


async def test_https_with_trusted_ca_reports_tls_phase_and_certificate(
    tls_server: HttpServer, ca_file: str
) -> None:
    url = f"https://localhost:{tls_server.port}/ok"
    conditions = Conditions.parse(["[CERTIFICATE_EXPIRATION] > 96h", "[CERTIFICATE_EXPIRATION] < 6d"])
    r = await probe_http(make_config(url, ca_file=ca_file, conditions=conditions))
    assert r.success, r.error
    assert r.phases.tls > 0
    assert r.cert is not None
    assert r.cert.leaf_expiry == LEAF_EXPIRY
    assert r.cert.chain_length == 2  # leaf + intermediate, as presented
    assert r.cert.earliest_expiry <= r.cert.leaf_expiry


async def test_https_untrusted_certificate_fails_unless_verification_is_off(tls_server: HttpServer) -> None:
    url = f"https://localhost:{tls_server.port}/ok"
    r = await probe_http(make_config(url))
    assert not r.success
    assert r.error.startswith("TLS certificate verification failed")
    r = await probe_http(make_config(url, verify_tls=False))
    assert r.success and r.cert is not None


async def test_explicit_ssl_context_is_used(tls_server: HttpServer, ca_file: str) -> None:
    ctx = ssl.create_default_context(cafile=ca_file)
    r = await probe_http(make_config(f"https://localhost:{tls_server.port}/ok"), ssl_context=ctx)
    assert r.success, r.error
