"""Chinese resident ID numbers (公民身份号码, GB 11643-1999) and 残疾人证号.

Our own validator: ``stdnum.cn.ric`` rejects real numbers because its place-code table carries
validity years (DOMAIN.md §7), so the region part is *not* checked against any table here — only
the structure, the birth date and the check digit.

Accepted forms (after :func:`normalize_id`):

* 18 characters: 6-digit region code + 8-digit birth date (YYYYMMDD) + 3-digit sequence
  (the last of which is odd for men, even for women) + check character (ISO 7064 MOD 11-2, ``0-9`` or ``X``);
* 15 digits: the legacy (first-generation) number, 6-digit region + YYMMDD (always 19YY) + 3-digit
  sequence, no check digit — converted to the 18-character form;
* 20 characters: the 残疾人证号, a valid 18-character ID followed by the disability category
  (1 视力 2 听力 3 言语 4 肢体 5 智力 6 精神 7 多重) and the grade (1–4, 一级 the most severe).

Pure Python: no Django import, usable from importers, the CLI and tests alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = [
    "DISABILITY_CATEGORIES",
    "DISABILITY_GRADES",
    "EARLIEST_BIRTH_DATE",
    "IdInfo",
    "IdNumberError",
    "check_digit",
    "convert_15_to_18",
    "is_valid_id",
    "normalize_id",
    "parse_id",
]

#: 残疾类别 by the digit in position 19 of a 残疾人证号.
DISABILITY_CATEGORIES: dict[int, str] = {
    1: "视力",
    2: "听力",
    3: "言语",
    4: "肢体",
    5: "智力",
    6: "精神",
    7: "多重",
}

#: 残疾等级 by the digit in position 20 of a 残疾人证号 (一级 is the most severe).
DISABILITY_GRADES: dict[int, str] = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}

#: Birth dates before this day are taken as typing errors.
EARLIEST_BIRTH_DATE = date(1890, 1, 1)

# ISO 7064 MOD 11-2: weight of position i (0-based, left to right) is 2**(17-i) mod 11.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"

# Full-width digits and x/X to ASCII; every kind of blank removed.
_TRANSLATION = {ord("０") + i: ord("0") + i for i in range(10)}
_TRANSLATION.update({ord("ｘ"): ord("X"), ord("Ｘ"): ord("X"), ord("x"): ord("X")})

_BLANKS = re.compile(r"\s+")  # includes U+3000 (ideographic space) and U+00A0
_ALLOWED = frozenset("0123456789X")
_RE_18 = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_RE_15 = re.compile(r"[0-9]{15}", re.ASCII)
_RE_20 = re.compile(r"[0-9]{17}[0-9X][0-9]{2}", re.ASCII)

MSG_EMPTY = "证件号码为空"
MSG_ILLEGAL = "含有非法字符"
MSG_X_POSITION = "含有非法字符（X只能出现在第18位）"
MSG_LENGTH = "长度应为18位（或15位旧号、20位残疾人证号）"
MSG_CHECK = "校验码错误"
MSG_DATE_INVALID = "出生日期无效"
MSG_DATE_FUTURE = "出生日期晚于今天"
MSG_DATE_TOO_EARLY = "出生日期早于1890年1月1日"
MSG_CATEGORY = "残疾类别无效（应为1–7）"
MSG_GRADE = "残疾等级无效（应为1–4）"


class IdNumberError(ValueError):
    """An ID number that is not a valid 公民身份号码 / 残疾人证号; ``str(e)`` is the Chinese message shown to users."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class IdInfo:
    """What a valid ID number tells about a person.

    ``id18`` is the 18-character 公民身份号码 (a legacy 15-digit number upgraded, a 残疾人证号 stripped of
    its two-digit suffix) — the key members are matched on.  ``region_prefix`` is the 6-digit 行政区划
    code where the number was issued (not necessarily the current residence).  ``disability_category`` /
    ``disability_grade`` are set only for a 20-character 残疾人证号.  ``original`` is the normalised input.
    """

    id18: str
    birth_date: date
    sex: str
    region_prefix: str
    disability_category: int | None
    disability_grade: int | None
    original: str

    @property
    def disability_category_label(self) -> str | None:
        """The 残疾类别 in words (视力 … 多重), or None when the number is not a 残疾人证号."""
        return DISABILITY_CATEGORIES.get(self.disability_category) if self.disability_category else None

    @property
    def disability_grade_label(self) -> str | None:
        """The 残疾等级 in words (一级 … 四级), or None when the number is not a 残疾人证号."""
        return DISABILITY_GRADES.get(self.disability_grade) if self.disability_grade else None

    @property
    def is_disability_card(self) -> bool:
        """True when the number given was a 20-character 残疾人证号."""
        return self.disability_category is not None

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day`` (e.g. 1 September for compulsory-school age); a 29 February
        birthday is reached on 1 March in common years."""
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)


def normalize_id(raw: str) -> str:
    """Clean an ID number as typed or pasted: drop every blank (incl. the full-width space U+3000),
    turn full-width digits ０-９ and ｘ/Ｘ into ASCII, and write the check character x as upper-case X.

    Nothing is validated here; ``None`` gives ``""``.
    """
    if raw is None:
        return ""
    return _BLANKS.sub("", str(raw)).translate(_TRANSLATION)


def check_digit(first17: str) -> str:
    """The 18th character (校验码) of a 公民身份号码 from its first 17 digits, by ISO 7064 MOD 11-2."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise IdNumberError("前17位应为数字")
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def convert_15_to_18(id15: str) -> str:
    """Upgrade a legacy 15-digit number to the 18-character form: insert "19" before the two-digit
    birth year and append the check digit.  The birth date is not checked here (see :func:`parse_id`)."""
    id15 = normalize_id(id15)
    if not _RE_15.fullmatch(id15):
        raise IdNumberError("15位旧号应全部为数字")
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + check_digit(first17)


def _birth_date(id18: str, today: date) -> date:
    try:
        born = date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
    except ValueError:
        raise IdNumberError(MSG_DATE_INVALID) from None
    if born > today:
        raise IdNumberError(MSG_DATE_FUTURE)
    if born < EARLIEST_BIRTH_DATE:
        raise IdNumberError(MSG_DATE_TOO_EARLY)
    return born


def parse_id(raw: str, *, today: date | None = None) -> IdInfo:
    """Validate an ID number (18-character, legacy 15-digit or 20-character 残疾人证号) and read the
    birth date, sex, issuing region and — for a 残疾人证号 — disability category and grade from it.

    The birth date must exist in the calendar, lie between 1890-01-01 and ``today`` (default: the
    current date), and for 18/20-character numbers the check character must match.  Any failure raises
    :class:`IdNumberError` with a Chinese message; nothing else is raised.
    """
    if raw is None:
        raise IdNumberError(MSG_EMPTY)
    if not isinstance(raw, str):
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)  # a number cell from a spreadsheet
        else:
            raise IdNumberError(MSG_ILLEGAL)
    today = today or date.today()
    original = normalize_id(raw)
    if not original:
        raise IdNumberError(MSG_EMPTY)
    if not set(original) <= _ALLOWED:
        raise IdNumberError(MSG_ILLEGAL)

    category: int | None = None
    grade: int | None = None
    if len(original) == 15:
        if not _RE_15.fullmatch(original):
            raise IdNumberError(MSG_X_POSITION)
        first17 = original[:6] + "19" + original[6:]
        born = _birth_date(first17, today)
        id18 = first17 + check_digit(first17)
    elif len(original) in (18, 20):
        if not (_RE_18 if len(original) == 18 else _RE_20).fullmatch(original):
            raise IdNumberError(MSG_X_POSITION)
        id18 = original[:18]
        born = _birth_date(id18, today)
        if check_digit(id18[:17]) != id18[17]:
            raise IdNumberError(MSG_CHECK)
        if len(original) == 20:
            category, grade = int(original[18]), int(original[19])
            if category not in DISABILITY_CATEGORIES:
                raise IdNumberError(MSG_CATEGORY)
            if grade not in DISABILITY_GRADES:
                raise IdNumberError(MSG_GRADE)
    else:
        raise IdNumberError(MSG_LENGTH)

    return IdInfo(
        id18=id18,
        birth_date=born,
        sex="男" if int(id18[16]) % 2 else "女",
        region_prefix=id18[:6],
        disability_category=category,
        disability_grade=grade,
        original=original,
    )


def is_valid_id(raw: str, *, today: date | None = None) -> bool:
    """True when :func:`parse_id` accepts ``raw`` (18-character, legacy 15-digit or 残疾人证号)."""
    try:
        parse_id(raw, today=today)
    except IdNumberError:
        return False
    return True
