"""`koban probe --shard i/n`: each process of a location runs a stable, disjoint hash share of its
monitors, and together they run all of them."""

from __future__ import annotations

import pytest

from koban.monitoring.prober import Prober
from koban.probes.shard import Shard
from tests.monitoring.support import config_with, http_monitor
from tests.support.system import running_system

IDS = [f"m{i:05d}" for i in range(3000)]


def test_shares_are_disjoint_cover_everything_and_are_about_even() -> None:
    shards = [Shard.parse(f"{i}/3") for i in (1, 2, 3)]
    owners = [[s for s in shards if s.owns(ident)] for ident in IDS]
    assert all(len(o) == 1 for o in owners)
    sizes = [sum(o[0] is s for o in owners) for s in shards]
    assert all(900 < n < 1100 for n in sizes)


def test_share_depends_on_the_id_alone() -> None:
    assert [Shard(1, 4).owns(i) for i in IDS] == [Shard.parse("2/4").owns(i) for i in IDS]
    assert all(Shard().owns(i) for i in IDS[:10]) and str(Shard(1, 4)) == "2/4"


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "a/b", "2", "", "1/-1"])
def test_bad_shards_are_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(ValueError, match="shard must"):
        Shard.parse(text)


async def test_two_shard_probers_of_a_location_split_its_monitors(db_url, tmp_path):
    mons = [http_monitor("http://127.0.0.1:9/", ident=f"shop-{i}", locations=["tokyo"]) for i in range(40)]
    mons.append(http_monitor("http://127.0.0.1:9/", ident="elsewhere", locations=["osaka"]))
    async with running_system(db_url, config_with(*mons), tmp_path) as k:
        halves = [Prober(k.deps, "tokyo", shard=Shard(i, 2)) for i in (0, 1)]
        for p in halves:  # membership only; the runners are not started
            await p.sync()
        first, second = (set(p.monitors) for p in halves)
        assert first and second and not first & second
        assert first | second == {f"shop-{i}" for i in range(40)}
        assert set(halves[0].runner._monitors) == first


def test_probe_command_refuses_a_bad_shard_before_starting() -> None:
    from typer.testing import CliRunner

    from koban.cli.main import app

    out = CliRunner().invoke(app, ["probe", "--shard", "3/2"])
    assert out.exit_code == 2 and "shard must be i/n" in out.output
