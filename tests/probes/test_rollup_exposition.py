from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from koban.probes import CertInfo, Histogram, Phases, ProbeResult, Rollup, exposition, merge, rollup_results
from koban.probes.rollup import bucket_of, bucket_value, summary_of

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make_result(
    t: float, total: float, ok: bool = True, monitor: str = "api", final: bool = True
) -> ProbeResult:
    phases = Phases(connect=total / 4, processing=total / 2, transfer=total / 4)
    return ProbeResult(
        kind="http",
        target="u",
        success=ok,
        started_at=T0 + timedelta(seconds=t),
        duration=total,
        phases=phases,
        monitor_id=monitor,
        final=final,
        status_code=200 if ok else 503,
    )


def test_histogram_percentiles_within_documented_error() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(-6, 1) for _ in range(10_000)]
    h = Histogram()
    for v in values:
        h.add(v)
    exact = sorted(values)
    for q in (0.5, 0.95, 0.99):
        truth = exact[int(q * len(exact)) - 1]
        assert h.quantile(q) == pytest.approx(truth, rel=0.06)
    assert h.quantile(1.0) == max(values) and h.max == max(values)


def test_bucket_value_is_inside_its_bucket() -> None:
    for v in (2e-6, 1e-3, 0.25, 3.0, 60.0):
        assert bucket_of(bucket_value(bucket_of(v))) == bucket_of(v)


def test_minute_rollups_count_failures_and_skip_non_final_attempts() -> None:
    results = [make_result(i, 0.01 * (i % 5 + 1), ok=i % 10 != 0) for i in range(120)]
    results.append(make_result(5, 9.0, ok=False, final=False))
    minutes = sorted(rollup_results(results, "minute"), key=lambda r: r.start)
    assert [(r.start, r.count, r.failures) for r in minutes] == [
        (T0, 60, 6),
        (T0 + timedelta(minutes=1), 60, 6),
    ]
    summary = minutes[0].summary()
    assert set(summary) == {"total", "resolve", "connect", "tls", "processing", "transfer"}
    assert summary["total"]["max"] == pytest.approx(0.05)
    assert summary["total"]["p50"] == pytest.approx(0.03, rel=0.05)
    assert summary["tls"] == {"p50": 0.0, "p95": 0.0, "max": 0.0, "avg": 0.0}


def test_hour_is_the_merge_of_its_minutes() -> None:
    rng = random.Random(1)
    results = [make_result(i * 7, rng.uniform(0.001, 0.2), ok=rng.random() > 0.1) for i in range(500)]
    direct = {r.start: r for r in rollup_results(results, "hour")}
    via_minutes = {r.start: r for r in merge(rollup_results(results, "minute"), "hour")}
    assert direct.keys() == via_minutes.keys()
    for start, d in direct.items():
        m = via_minutes[start]
        assert (m.count, m.failures, m.resolution) == (d.count, d.failures, "hour")
        assert m.metrics["total"].counts == d.metrics["total"].counts
        assert m.summary()["total"]["p95"] == d.summary()["total"]["p95"]
    days = merge(via_minutes.values(), "day")
    assert len(days) == 1 and days[0].count == 500


def test_rollup_round_trips_through_a_dict_for_storage() -> None:
    (r,) = rollup_results([make_result(0, 0.02), make_result(1, 0.04, ok=False)])
    again = Rollup.from_dict(r.to_dict())
    assert again.to_dict() == r.to_dict()
    assert again.summary() == r.summary()


def test_cannot_split_into_finer_windows() -> None:
    hours = rollup_results([make_result(0, 0.02)], "hour")
    with pytest.raises(ValueError, match="cannot split hour"):
        merge(hours, "minute")


def test_exposition_matches_blackbox_names_with_zero_filled_phases() -> None:
    expiry = datetime(2027, 1, 1, tzinfo=UTC)
    ok = make_result(0, 0.02)
    ok = ProbeResult(
        **{
            **{f: getattr(ok, f) for f in ok.__dataclass_fields__},
            "cert": CertInfo(expiry + timedelta(days=30), expiry),
            "headers": {"content-length": "6"},
        }
    )
    down = make_result(0, 0.5, ok=False, monitor='we"ird')
    text = exposition([down, ok])
    lines = text.splitlines()
    assert 'probe_success{monitor="api"} 1' in lines
    assert 'probe_success{monitor="we\\"ird"} 0' in lines
    assert 'probe_http_duration_seconds{monitor="api",phase="tls"} 0' in lines
    assert 'probe_http_duration_seconds{monitor="api",phase="processing"} 0.01' in lines
    assert sum(line.startswith('probe_http_duration_seconds{monitor="api"') for line in lines) == 5
    assert 'probe_http_status_code{monitor="we\\"ird"} 503' in lines
    assert f'probe_ssl_earliest_cert_expiry{{monitor="api"}} {int(expiry.timestamp())}' in lines
    assert 'probe_dns_lookup_time_seconds{monitor="api"} 0' in lines
    assert 'probe_http_content_length{monitor="api"} 6' in lines
    assert "# TYPE probe_success gauge" in lines
    assert text.endswith("\n")


def test_exposition_of_nothing_is_empty() -> None:
    assert exposition([]) == ""


def test_stored_histogram_is_rounded_and_one_value_needs_no_stored_quantiles() -> None:
    one = Histogram()
    one.add(0.012345678912)
    d = one.to_dict()
    assert "p50" not in d and d["max"] == 0.0123457
    assert summary_of(d) == {"p50": 0.0123457, "p95": 0.0123457, "max": 0.0123457, "avg": 0.0123457}
    assert summary_of(Histogram().to_dict()) == {"p50": 0.0, "p95": 0.0, "max": 0.0, "avg": 0.0}
    many = Histogram()
    for v in (0.01, 0.02, 0.03):
        many.add(v)
    assert summary_of(many.to_dict())["p95"] == many.quantile(0.95)
    assert summary_of({k: v for k, v in many.to_dict().items() if k not in ("p50", "p95")}) is None
