"""``koban logs import-elastalert`` on rule files written after ElastAlert2's documented examples:
the rules koban can run come out as log_rules that pass ``koban config check``; what it cannot carry
over is named, file by file."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from koban.cli.main import app
from koban.config.loader import load_config
from koban.logs.elastalert import convert

RULES = Path(__file__).parent / "elastalert_rules"


def test_the_documented_examples_become_rules_that_pass_config_check(tmp_path):
    out = tmp_path / "rules.yaml"
    res = CliRunner().invoke(
        app,
        [
            "logs",
            "import-elastalert",
            str(RULES),
            "--cluster",
            "app-logs",
            "--service",
            "shop",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output  # every file converted (some with problems named)
    rules = {r["id"]: r for r in yaml.safe_load(out.read_text())["log_rules"]}
    assert set(rules) == {
        "example-frequency-rule", "ssh-abuse", "event-spike", "new-country-login", "example-cardinality-rule",
        "metricbeat-cpu-spike-rule", "forbidden-paths", "country-change-per-user", "too-many-errors",
        "new-listener",
    }  # fmt: skip
    assert rules["example-frequency-rule"] == {
        "id": "example-frequency-rule", "name": "Example frequency rule", "cluster": "app-logs",
        "service": "shop", "type": "frequency", "index": "logstash-*",
        "filter": {"bool": {"filter": [{"term": {"some_field": "some_value"}}]}},
        "num_events": 50, "timeframe": "14400s",
    }  # fmt: skip
    ssh = rules["ssh-abuse"]
    assert ssh["filter"] == "event.type:authentication_failure" and ssh["query_key"] == "source.ip"
    spike = rules["event-spike"]
    assert (spike["spike_height"], spike["spike_type"], spike["threshold_cur"], spike["timeframe"]) == (
        3,
        "up",
        5,
        "7200s",
    )
    assert rules["new-country-login"]["fields"] == ["field_1", "field_2"]  # each watched apart
    assert rules["new-listener"]["fields"] == ["user.name", ["host.name", "destination.port"]]
    assert rules["new-listener"]["terms_window_size"] == "604800s"
    assert rules["new-country-login"]["terms_window_size"] == "2592000s"
    metric = rules["metricbeat-cpu-spike-rule"]
    assert (metric["metric_agg_type"], metric["max_threshold"], metric["timeframe"]) == ("avg", 0.8, "300s")
    assert rules["forbidden-paths"]["blacklist"] == ["/admin.php"]
    change = rules["country-change-per-user"]
    assert (change["type"], change["compare_key"], change["query_key"], change["timeframe"]) == (
        "change",
        "country_name",
        "username",
        "86400s",
    )
    share = rules["too-many-errors"]
    assert share["query_key"] == ["service", "host"] and share["timeframe"] == "300s"
    assert share["match_bucket_filter"] == {"bool": {"filter": [{"term": {"level": "ERROR"}}]}}
    assert (share["max_percentage"], share["min_denominator"]) == (10, 100)

    config = tmp_path / "koban.yaml"
    base = {
        "services": [{"id": "shop", "policy": None}],
        "log_clusters": [{"id": "app-logs", "url": "http://127.0.0.1:9200"}],
    }
    config.write_text(yaml.safe_dump(base | yaml.safe_load(out.read_text())))
    assert len(load_config(config).log_rules) == 10
    checked = CliRunner().invoke(app, ["config", "check", str(config)])
    assert checked.exit_code == 0, checked.output

    said = res.stderr
    assert "change.yaml: not converted" not in said and "new_term.yaml: not converted" not in said
    assert "new_term.yaml: note: fields ['field_1', 'field_2']: ElastAlert2 read their history" in said
    assert "new_term_composite.yaml: note: fields" not in said  # use_keyword_postfix: false
    assert "spike.yaml: not converted: filter on a document type" in said
    assert "blacklist.yaml: not converted: blacklist: '!file' entries are not read" in said
    assert "ssh.yaml: note: realert:" in said and "ssh.yaml: note: slack_webhook_url:" in said
    assert "10 rule(s) converted, 0 not" in said


def test_unknown_options_are_named_and_a_rule_koban_cannot_validate_is_not_emitted():
    res = convert(
        {"name": "x", "type": "cardinality", "cardinality_field": "h", "wat": 1},
        source="x",
        cluster="c",
        service="s",
    )
    assert res.rule is None
    assert "wat: not carried over" in res.problems
    assert any("max_cardinality or min_cardinality" in p for p in res.problems)


def test_a_new_term_rule_without_fields_watches_its_query_key_and_more_than_4_entries_are_named():
    res = convert({"name": "x", "type": "new_term", "query_key": ["host", "port"]}, source="x", cluster="c",
                  service="s")  # fmt: skip
    assert res.rule is not None and res.rule["fields"] == [["host", "port"]] and "query_key" not in res.rule
    res = convert({"name": "x", "type": "new_term", "query_key": "user.keyword"}, source="x", cluster="c",
                  service="s")  # fmt: skip
    assert res.rule is not None and res.rule["fields"] == ["user.keyword"] and res.problems == []
    res = convert({"name": "x", "type": "new_term", "fields": list("abcde")}, source="x", cluster="c",
                  service="s")  # fmt: skip
    assert res.rule is not None and res.rule["fields"] == list("abcd")
    said = "new_term fields ['a', 'b', 'c', 'd', 'e']: koban watches up to 4; kept the first 4"
    assert said in res.problems
