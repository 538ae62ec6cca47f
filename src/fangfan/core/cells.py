"""Cell parsers for every spreadsheet the system reads (households, department data, regions, accounts): each takes
a cell as read (a string from CSV; str, float, int, bool, date or None from .xlsx) and returns the parsed value or
raises ``CellError`` with the reason in Chinese. Parsers are plain functions, so a reader may call each once per
distinct value of a column (values repeat: 是/否, 0, 户主 …)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Parser = Callable[[Any], Any]


class CellError(ValueError):
    pass


def text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\u3000", " ").strip()


YES = {"是", "y", "yes", "1", "√", "true", "是的"}
NO = {"否", "n", "no", "0", "×", "x", "false"}


def yes_no(value: object) -> bool | None:
    """是/否 (also Y/N, 1/0, √/×); blank is None (not yet verified)."""
    if isinstance(value, bool):
        return value
    raw = text(value).lower()
    if raw == "":
        return None
    if raw in YES:
        return True
    if raw in NO:
        return False
    raise CellError("应填“是”或“否”")


_PLAIN_MONEY = re.compile(r"(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,2})?")
_CENT = Decimal("0.01")


def money(value: object, *, required: bool = False) -> Decimal | None:
    """Yuan: a number ≥ 0 with at most 2 decimals, below 10¹² (the columns hold 14 digits, 2 of them decimals)."""
    if type(value) is str and _PLAIN_MONEY.fullmatch(
        value
    ):  # "4620", "3600.5": the usual cell, checked at once
        return Decimal(value).quantize(_CENT)
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if required:
            raise CellError("必填，请填写金额（元），没有请填 0")
        return None
    try:
        amount = (
            Decimal(str(value).replace(",", "").strip())
            if not isinstance(value, float)
            else Decimal(repr(value))
        )
    except (InvalidOperation, ArithmeticError):
        raise CellError("应为金额数字（元）") from None
    if not amount.is_finite():
        raise CellError("应为金额数字（元）")
    if amount < 0:
        raise CellError("金额不能为负数")
    if amount >= Decimal("1e12"):
        raise CellError("金额过大，请核对单位（元）")
    if amount != amount.quantize(_CENT):
        raise CellError("金额最多保留两位小数")
    return amount.quantize(_CENT)


def required_money(value: object) -> Decimal | None:
    """``money``, and a blank cell is refused."""
    return money(value, required=True)


def optional_money(value: object) -> Decimal:
    """``money``, and a blank cell is 0.00."""
    amount = money(value)
    return Decimal("0.00") if amount is None else amount


def calendar_date(value: object) -> date | None:
    """YYYY-MM-DD, YYYY/MM/DD or an Excel date; blank is None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise CellError("日期格式应为 YYYY-MM-DD")


def year_month(value: object) -> str | None:
    """YYYYMM (Excel may give a number or a date); blank is None."""
    if value in (None, ""):
        return None
    if isinstance(value, (datetime, date)):
        return f"{value.year:04d}{value.month:02d}"
    raw = text(value).replace("-", "").replace("/", "")
    if len(raw) == 6 and raw.isdigit() and 1 <= int(raw[4:]) <= 12 and 1900 <= int(raw[:4]) <= 2100:
        return raw
    raise CellError("年月格式应为 YYYYMM，例如 202405")


def month_or_blank(value: object) -> str:
    """``year_month`` with "" for a blank cell."""
    return year_month(value) or ""


def year(*, label: str, earliest: int) -> Parser:
    """A four-digit year from ``earliest`` to this year; blank is None. ``label`` names it in the reason."""

    def parse(value: object) -> int | None:
        raw = text(value)
        if raw == "":
            return None
        this_year = date.today().year
        if not (len(raw) == 4 and raw.isdigit() and earliest <= int(raw) <= this_year):
            raise CellError(f"{label}应为四位年份，例如 2019（{earliest}–{this_year}）")
        return int(raw)

    return parse


def months(*, label: str) -> Parser:
    """A whole number of months, 0–12; blank is None."""

    def parse(value: object) -> int | None:
        raw = text(value)
        if raw == "":
            return None
        if not raw.isdigit() or not 0 <= int(raw) <= 12:
            raise CellError(f"{label}应为 0–12 的整数（月）")
        return int(raw)

    return parse


PHONE = re.compile(r"^\+?[0-9][0-9-]{3,19}$")
PHONE_RULE = "联系电话格式不正确（应为数字，可含“-”）"


def phone(value: object) -> str:
    """A phone with its blanks removed ("" for none): digits and "-", an optional leading "+"."""
    number = re.sub(r"\s+", "", text(value))
    if number and not PHONE.match(number):
        raise CellError(PHONE_RULE)
    return number


def required(parse: Parser, *, reason: str = "必填") -> Parser:
    """``parse``, and a blank result is refused with ``reason``."""

    def check(value: object) -> Any:
        result = parse(value)
        if result in ("", None):
            raise CellError(reason)
        return result

    return check


def choice(
    values: Mapping[str, str] | Iterable[str],
    *,
    shown: list[str] | None = None,
    aliases: Mapping[str, str] | None = None,
    lead: str = "应为以下之一：",
    squeeze: bool = False,
) -> Parser:
    """A word from a list: ``values`` is a list of words, or a mapping of accepted words → stored codes, with
    ``aliases`` (more words → stored code); blank is "". The reason lists ``shown`` (default: every word of
    ``values``) after ``lead``. ``squeeze`` drops the spaces inside a cell before it is looked up."""
    words = list(values)
    mapping = dict(values) if isinstance(values, Mapping) else {v: v for v in words}
    mapping |= aliases or {}
    reason = f"{lead}{'、'.join(shown if shown is not None else words)}"

    def parse(value: object) -> str:
        raw = text(value)
        if squeeze:
            raw = raw.replace(" ", "")
        if raw == "":
            return ""
        try:
            return mapping[raw]
        except KeyError:
            raise CellError(reason) from None

    return parse


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def bounded(limit: int, *, reason: str | None = None, controls: bool = True) -> Parser:
    """Text of at most ``limit`` characters (``reason`` when longer); with ``controls`` a cell holding an invisible
    control character is refused too."""
    too_long = reason or f"过长（最多{limit}个字）"

    def parse(value: object) -> str:
        raw = text(value)
        if len(raw) > limit:
            raise CellError(too_long)
        if controls and _CONTROL.search(raw):
            raise CellError("含有不可见的控制字符，请删除后重新填写")
        return raw

    return parse


_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


def lost_digits(value: object) -> bool:
    """True when a cell meant as a long code arrived as a number — a float of 15 digits or more, or a string in
    scientific notation (Excel turned it into a number and dropped its last digits)."""
    if isinstance(value, float):
        return abs(value) >= 1e15
    return isinstance(value, str) and _SCIENTIFIC.match(value.strip()) is not None


def excel_number(value: float) -> str:
    """A long number as Excel shows it once it is a number: 15 significant digits, then zeros."""
    try:
        return str(int(Decimal(f"{value:.15g}")))
    except (ArithmeticError, ValueError):
        return str(value)
