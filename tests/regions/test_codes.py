"""The 12-digit region code: levels, parents, and subtrees as index-friendly ranges (DOMAIN.md §7)."""

import pytest

from fangfan.regions.codes import (
    Level,
    RegionCodeError,
    code_range,
    contains,
    level_of,
    parent_of,
    validate_code,
)


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("340000000000", Level.PROVINCE, None),
        ("341500000000", Level.CITY, "340000000000"),
        ("341523000000", Level.COUNTY, "341500000000"),
        ("341523104000", Level.TOWN, "341523000000"),
        ("341523104201", Level.VILLAGE, "341523104000"),
    ],
)
def test_level_and_parent_follow_from_the_code(code, level, parent):
    assert level_of(code) == level
    assert parent_of(code) == parent


def test_subtree_is_a_half_open_range():
    assert code_range("341523104000") == ("341523104000", "341523105000")
    assert code_range("341523104201") == ("341523104201", "341523104202")
    assert code_range("349900000000") == ("349900000000", "350000000000")
    assert contains("341523104000", "341523104299")
    assert not contains("341523104000", "341523105201")


@pytest.mark.parametrize(
    "bad", ["", "3415231042", "34152310420A", "000000000000", "340001000000", "３４１５２３１０４２０１"]
)
def test_invalid_codes_are_refused(bad):
    with pytest.raises(RegionCodeError):
        validate_code(bad)
