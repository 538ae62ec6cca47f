"""The 12-digit 统计用区划代码: province 2 + city 2 + county 2 + town 3 + village 3 (DOMAIN.md §7).

A subtree is a half-open code range ``[prefix000…, next-prefix000…)``: indexable on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from enum import IntEnum

CODE_LENGTH = 12


class Level(IntEnum):
    PROVINCE = 1
    CITY = 2
    COUNTY = 3
    TOWN = 4
    VILLAGE = 5

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]


LEVEL_LABELS = {
    Level.PROVINCE: "省",
    Level.CITY: "市",
    Level.COUNTY: "县",
    Level.TOWN: "乡镇",
    Level.VILLAGE: "村（社区）",
}
# Significant prefix length at each level.
PREFIX = {Level.PROVINCE: 2, Level.CITY: 4, Level.COUNTY: 6, Level.TOWN: 9, Level.VILLAGE: 12}


class RegionCodeError(ValueError):
    """A code that is not a 12-digit region code; the message is Chinese."""


def validate_code(code: str) -> str:
    code = (code or "").strip()
    if len(code) != CODE_LENGTH or not code.isascii() or not code.isdigit():
        raise RegionCodeError("区划代码应为12位数字")
    if code[:2] == "00":
        raise RegionCodeError("区划代码的省级部分不能为00")
    level = level_of(code)
    # No gaps: a non-zero part below a zero part (e.g. 34 00 01 …) is not a code.
    significant = code[: PREFIX[level]]
    parts = [significant[0:2], significant[2:4], significant[4:6], significant[6:9], significant[9:12]]
    seen_zero = False
    for part in parts:
        if not part:
            break
        if set(part) == {"0"}:
            seen_zero = True
        elif seen_zero:
            raise RegionCodeError("区划代码的上级部分为0，下级部分却不为0")
    return code


def level_of(code: str) -> Level:
    if code[9:] != "000":
        return Level.VILLAGE
    if code[6:9] != "000":
        return Level.TOWN
    if code[4:6] != "00":
        return Level.COUNTY
    if code[2:4] != "00":
        return Level.CITY
    return Level.PROVINCE


def prefix_of(code: str) -> str:
    return code[: PREFIX[level_of(code)]]


def code_range(code: str) -> tuple[str, str]:
    """The half-open range of codes in the subtree rooted at ``code`` (itself included)."""
    prefix = prefix_of(code)
    width = len(prefix)
    lo = prefix.ljust(CODE_LENGTH, "0")
    hi = str(int(prefix) + 1).zfill(width).ljust(CODE_LENGTH, "0")
    return lo, hi


def parent_of(code: str) -> str | None:
    level = level_of(code)
    if level == Level.PROVINCE:
        return None
    parent_prefix = code[: PREFIX[Level(level - 1)]]
    return parent_prefix.ljust(CODE_LENGTH, "0")


def ancestors_of(code: str) -> list[str]:
    """Codes from the province down to the parent of ``code``."""
    chain = []
    parent = parent_of(code)
    while parent is not None:
        chain.append(parent)
        parent = parent_of(parent)
    return list(reversed(chain))


def contains(ancestor: str, code: str) -> bool:
    lo, hi = code_range(ancestor)
    return lo <= code < hi
