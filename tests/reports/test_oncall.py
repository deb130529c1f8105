from dataclasses import dataclass
from datetime import UTC, datetime

from koban.reports.oncall import oncall, shifts
from koban.reports.records import Period, PersonInfo

H = 3600.0


@dataclass
class Rota:
    members: list[str]
    shift: float | None = None
    start: datetime | None = None


def test_shifts_hand_off_every_shift_from_start_and_are_clipped_to_the_period():
    rota = Rota(["alice", "bob"], 8 * H, datetime.fromtimestamp(0, UTC))
    assert shifts(rota, Period(4 * H, 20 * H)) == [
        ("alice", 4 * H, 8 * H),
        ("bob", 8 * H, 16 * H),
        ("alice", 16 * H, 20 * H),
    ]


def test_a_rotation_without_shifts_is_its_first_member_all_along_and_one_person_twice_is_one_shift():
    assert shifts(Rota(["carol", "bob"]), Period(0, 10 * H)) == [("carol", 0, 10 * H)]
    solo = Rota(["alice"], H, datetime.fromtimestamp(0, UTC))
    assert shifts(solo, Period(0, 3 * H)) == [("alice", 0, 3 * H)]


def test_shares_are_measured_against_an_even_split_and_deleted_people_keep_their_id():
    rota = Rota(["alice", "gone"], 6 * H, datetime.fromtimestamp(0, UTC))
    r = oncall(
        {"r": rota}, Period(0, 18 * H), {"alice": PersonInfo("alice", "Alice")}, {"alice": {"pages": 3}}
    )
    alice, gone = r["rotations"][0]["members"]
    assert (alice["hours"], alice["share"], alice["fairness"], alice["pages"]) == (12.0, 0.6667, 0.1667, 3)
    assert (gone["hours"], gone["known"], gone["pages"]) == (6.0, False, 0)
