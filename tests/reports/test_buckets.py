"""``stats.bucketer`` (one zone lookup per hour, one label per day) cuts every instant where
``stats.bucket`` (one zone lookup each) does: across DST changes, half- and quarter-hour zones,
a transition at midnight, old offsets in seconds, and instants a microsecond from midnight."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from koban.reports.stats import GRAINS, bucket, bucketer

ZONES = ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
         "America/Santiago", "Africa/Monrovia", "Asia/Tokyo", "America/St_Johns"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    grain=st.sampled_from(GRAINS),
    ats=st.lists(
        st.floats(-1e9, 4e9, allow_nan=False) | st.integers(0, 4_000_000).map(lambda h: h * 900.0 - 1e-7),
        min_size=1,
        max_size=40,
    ),
)
def test_bucketer_cuts_every_instant_where_bucket_does(zone, grain, ats):
    cut = bucketer(grain, zone)
    assert [cut(a) for a in ats] == [bucket(a, grain, zone) for a in ats]
