from __future__ import annotations

from datetime import timedelta

import pytest

from koban.routing.matchers import Matcher, MatchOp, from_legacy, parse_matchers
from koban.routing.routes import Route, build_tree, group_key, match_routes


def test_matchers_treat_missing_labels_as_empty_and_anchor_regexes():
    [eq_empty] = parse_matchers('team=""')
    assert eq_empty.matches({}) and not eq_empty.matches({"team": "db"})
    [rx] = parse_matchers('{severity=~"crit|page"}')
    assert rx.matches({"severity": "page"}) and not rx.matches({"severity": "pager"})
    [nrx] = parse_matchers("env!~prod.*")
    assert nrx.matches({"env": "staging"}) and not nrx.matches({"env": "prod-eu"})
    assert Matcher("a", MatchOp.NE, "x").matches({})


def test_bad_regex_fails_when_the_matcher_is_built():
    with pytest.raises(ValueError, match="invalid regex"):
        parse_matchers('a=~"("')


def make_tree():
    return build_tree(
        Route(
            receiver="default",
            group_by=("alertname",),
            group_wait=timedelta(seconds=10),
            routes=(
                Route(receiver="db", matchers=parse_matchers('team="db"'), continue_=True,
                      routes=(Route(receiver="db-pager", matchers=parse_matchers('severity="critical"')),)),
                Route(receiver="audit", matchers=parse_matchers('team=~".+"'), group_by=("...",)),
                Route(receiver="never", matchers=parse_matchers('team="db"')),
            ),
        )
    )  # fmt: skip


def test_first_match_wins_unless_continue_and_deepest_match_handles():
    tree = make_tree()
    assert [n.receiver for n in match_routes(tree, {"team": "db", "severity": "critical"})] == [
        "db-pager",
        "audit",
    ]
    assert [n.receiver for n in match_routes(tree, {"team": "db"})] == ["db", "audit"]
    assert [n.receiver for n in match_routes(tree, {"team": "web"})] == ["audit"]
    assert [n.receiver for n in match_routes(tree, {})] == ["default"]


def test_children_inherit_timers_and_group_by():
    db_pager = match_routes(make_tree(), {"team": "db", "severity": "critical"})[0]
    assert db_pager.timers.group_wait == timedelta(seconds=10)
    assert db_pager.group_by == frozenset({"alertname"})


def test_group_key_matches_alertmanagers_format():
    tree = make_tree()
    assert group_key(tree, {"alertname": "ProbeFailed", "x": "1"}) == '{}:{alertname="ProbeFailed"}'
    db = match_routes(tree, {"team": "db", "severity": "critical", "alertname": "A"})[0]
    assert group_key(db, {"alertname": "A"}) == '{}/{team="db"}/{severity="critical"}:{alertname="A"}'
    audit = match_routes(tree, {"team": "web", "b": "2", "a": "1"})[0]
    assert group_key(audit, {"team": "web", "b": "2", "a": "1"}).endswith(':{a="1", b="2", team="web"}')


def test_legacy_match_maps_are_converted():
    assert from_legacy({"team": "db"}, {"sev": "c.*"}) == parse_matchers('sev=~"c.*",team="db"')


def test_root_must_match_everything():
    with pytest.raises(ValueError):
        build_tree(Route(receiver="x", matchers=parse_matchers("a=b")))
