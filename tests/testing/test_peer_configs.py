"""The generated peer configs, checked without starting any binary."""

import pytest

from koban.testing.configs import (
    AlertmanagerTarget,
    alertmanager_config,
    go_duration,
    nginx_config,
    prometheus_config,
)


@pytest.mark.parametrize(("value", "expected"), [(1, "1s"), (0.5, "500ms"), (2.0, "2s"), ("1h", "1h")])
def test_durations_are_written_in_go_syntax(value, expected):
    assert go_duration(value) == expected


def test_koban_target_keeps_its_path_prefix_and_bearer_token():
    entry = AlertmanagerTarget("http://127.0.0.1:8000/ingest/", bearer_token="k3y").config()
    assert entry["static_configs"] == [{"targets": ["127.0.0.1:8000"]}]
    assert entry["path_prefix"] == "/ingest"  # Prometheus then POSTs /ingest/api/v2/alerts
    assert entry["authorization"] == {"type": "Bearer", "credentials": "k3y"}


def test_plain_alertmanager_url_has_no_prefix_or_auth():
    entry = prometheus_config(alertmanagers=["http://127.0.0.1:9093"])["alerting"]["alertmanagers"][0]
    assert "path_prefix" not in entry and "authorization" not in entry
    assert entry["api_version"] == "v2"


def test_scrape_timeout_never_exceeds_a_short_interval():
    assert prometheus_config(scrape_interval=1)["global"]["scrape_timeout"] == "1s"
    assert prometheus_config(scrape_interval="30s")["global"]["scrape_timeout"] == "10s"


def test_alertmanager_without_webhook_drops_notifications():
    config = alertmanager_config(webhook_url=None)
    assert config["receivers"] == [{"name": "recorder"}]


def test_nginx_runs_workers_as_root_only_when_started_as_root():
    assert "user root;" in nginx_config(port=1, workdir="/w", as_root=True)
    assert "user root;" not in nginx_config(port=1, workdir="/w", as_root=False)


def test_single_worker_nginx_runs_as_one_process_so_it_dies_with_the_runner():
    assert "master_process off;" in nginx_config(port=1, workdir="/w", as_root=True)
    assert "master_process off;" not in nginx_config(port=1, workdir="/w", as_root=True, worker_processes=2)
