"""The catalog keeps monitors compact (issue 18: 100,000 models were ~450 MB in every process): each
reads back as the same Monitor, bulk filters read briefs, and a prober shard builds models only for
the monitors it runs. Both databases."""

from __future__ import annotations

import tracemalloc

from koban.catalog.monitors import MonitorCatalog
from koban.config.model_monitors import Monitor
from koban.monitoring.prober import Prober
from koban.probes.shard import Shard
from tests.monitoring.support import config_with, http_monitor
from tests.support.system import running_system

KINDS = [
    {"id": "plain", "service": "web", "target": "http://shop/health"},
    {
        "id": "full",
        "name": "Checkout",
        "service": "web",
        "target": "https://shop/pay",
        "method": "post",
        "headers": {"X-Probe": "koban"},
        "body": "{}",
        "interval": "30s",
        "timeout": "5s",
        "conditions": ["[STATUS] == 200", "[BODY].status == UP"],
        "locations": ["tokyo", "osaka"],
        "enabled": False,
        "rules": {"down_for": "2m", "slower_than": "800ms", "locations_down": 2},
    },
    {"id": "dns", "service": "web", "type": "dns", "target": "shop.example", "server": "127.0.0.1"},
    {"id": "tcp", "service": "web", "type": "tcp", "target": "db:5432"},
    {"id": "tls", "service": "web", "type": "tls", "target": "shop:443"},
]


def test_every_kind_of_monitor_reads_back_as_it_was_configured():
    models = [Monitor.model_validate(k) for k in KINDS]
    catalog = MonitorCatalog.of(models)
    assert [catalog[m.id] for m in models] == models
    assert list(catalog) == [m.id for m in models] and len(catalog) == 5 and "dns" in catalog
    full = catalog.briefs["full"]
    assert (full.name, full.service, full.enabled, full.locations) == (
        "Checkout",
        "web",
        False,
        ("tokyo", "osaka"),
    )
    assert catalog == MonitorCatalog.of(models) and catalog.get("gone") is None


def test_a_catalog_of_many_monitors_holds_a_small_fraction_of_their_models():
    models = [
        Monitor.model_validate({**KINDS[0], "id": f"m{i:05d}", "target": f"http://shop/{i}"})
        for i in range(2000)
    ]
    tracemalloc.start()
    catalog = MonitorCatalog.of(models)
    compact = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    tracemalloc.start()
    rebuilt = [Monitor.model_validate(m.model_dump()) for m in models]
    full = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(rebuilt) == len(catalog)
    assert compact * 8 < full


async def test_a_prober_shard_builds_models_only_for_its_own_monitors(db_url, tmp_path):
    monitors = [http_monitor(f"http://127.0.0.1:9/{i}", ident=f"m{i:03d}", interval="1h") for i in range(40)]
    async with running_system(db_url, config_with(*monitors), tmp_path) as k:
        catalog = k.catalog.monitors
        shard = Shard.parse("1/2")
        prober = Prober(k.deps, "local", shard=shard)
        built: list[str] = []
        real = MonitorCatalog.__getitem__

        def counting(self: MonitorCatalog, ident: str) -> Monitor:
            built.append(ident)
            return real(self, ident)

        MonitorCatalog.__getitem__ = counting  # type: ignore[method-assign]
        try:
            await prober.sync()
        finally:
            MonitorCatalog.__getitem__ = real  # type: ignore[method-assign]
        mine = sorted(i for i in catalog if shard.owns(i))
        assert 0 < len(mine) < 40
        assert sorted(prober.monitors) == sorted(prober.rules) == sorted(built) == mine
        built.clear()
        await prober.sync()  # the same catalog: nothing rebuilt
        assert built == []
