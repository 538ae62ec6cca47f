"""The household workbook's cells: the parsers of its own columns (户编号, 健康状况, a phone that may be masked, the
ID number's fast path, pinyin initials) beside the common ones of ``core.cells``, and ``CellChecks`` — each column
parsed once per distinct value, every wrong cell a problem naming file, sheet, row and column."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from operator import mul

from pypinyin import Style
from pypinyin.constants import RE_HANS
from pypinyin.core import Pinyin
from pypinyin.seg import mmseg

from fangfan.core.cells import CellError, excel_number, lost_digits, phone, text
from fangfan.core.errors import ValidationFailed
from fangfan.core.tabular import Problem, Table

from .. import formats
from ..choices import HEALTH_STATES
from ..derive import name_initials
from ..idnumber import parse_id
from .layout import KEEP, MAX_PROBLEMS, Progress, _Keep


def _household_number(raw) -> str:
    if lost_digits(raw):
        raise CellError(
            "户编号必须是文本格式，Excel 已把它变成数字（末几位已丢失），请将该列设置为文本格式后重新填写"
        )
    try:
        return formats.clean_household_number(text(raw))
    except ValueError as exc:
        raise CellError(str(exc)) from None


def _health(value) -> str:
    raw = text(value)
    if not raw:
        return ""
    parts = [p.strip() for p in re.split(r"[、，,；;/\s]+", raw) if p.strip()]
    unknown = [p for p in parts if p not in HEALTH_STATES]
    if unknown:
        raise CellError(f"应为以下一项或多项（用“、”分隔）：{'、'.join(HEALTH_STATES)}")
    chosen = set(parts)
    if "健康" in chosen and len(chosen) > 1:
        raise CellError("“健康”不能与其他健康状况同时填写")
    return "、".join(h for h in HEALTH_STATES if h in chosen)


def _phone(value) -> str | _Keep:
    if "*" in text(value):
        return KEEP  # a masked phone from our own export: keep what is stored
    return phone(value)


# 18-digit fast path of parse_id (the common case), falling back to parse_id for anything else and for the
# exact error message. tests/registry/test_import_speedups.py checks it agrees with parse_id.
_W = tuple(pow(2, 17 - i, 11) for i in range(17))
_W48 = 48 * sum(_W)
_BIRTH: dict[str, date | None] = {}


def _birth(s: str, today: date) -> date | None:
    born = _BIRTH.get(s, False)
    if born is False:
        try:
            born = date(int(s[:4]), int(s[4:6]), int(s[6:]))
            if not (date(1890, 1, 1) <= born <= today):
                born = None
        except ValueError:
            born = None
        _BIRTH[s] = born
    return born


def _id_fast(raw: str, today: date) -> tuple[str, str, date, str, tuple | None]:
    """(stored form, id18, birth date, sex, (残疾类别, 残疾等级) from a 残疾人证号 or None); IdNumberError otherwise."""
    if len(raw) == 18 and raw.isascii():
        body = raw[:17]
        last = raw[17]
        if last == "x":
            last = "X"
        if (
            body.isdigit()
            and (last.isdigit() or last == "X")
            and "10X98765432"[(sum(map(mul, body.encode(), _W)) - _W48) % 11] == last
        ):
            born = _birth(body[6:14], today)
            if born is not None:
                id18 = body + last
                return id18, id18, born, "男" if int(body[16]) % 2 else "女", None
    info = parse_id(raw, today=today)
    card = (info.disability_category_label, info.disability_grade_label) if info.is_disability_card else None
    return (info.original if card else info.id18), info.id18, info.birth_date, info.sex, card


# Pinyin initials: the same answer as derive.name_initials, far cheaper. For a name made only of Chinese characters
# pypinyin reads one run, cut into words by its phrase segmenter (mmseg), each word converted on its own; so we cut
# the name the same way and cache each word's initials (words are few: single characters and dictionary phrases).
# ``pre_seg`` is pypinyin's extension point for handing it a ready cut. Anything else goes to name_initials itself.
# tests/registry/test_import_speedups.py checks that they agree.
_WORD_INITIALS: dict[str, str] = {}
_NAME_INITIALS: dict[str, str] = {}


class _WordPinyin(Pinyin):
    def pre_seg(self, hans, **kwargs):
        return [hans]  # already one word of the segmenter's cut


_WORD_PINYIN = _WordPinyin()
# The segmenter's set of phrase prefixes (an attribute of pypinyin's mmseg.Seg); without it, always cut.
_PREFIXES = getattr(mmseg.seg, "_prefix_set", None)


def _word_initials(word: str) -> str:
    hit = _WORD_INITIALS.get(word)
    if hit is None:
        letters = _WORD_PINYIN.lazy_pinyin(word, style=Style.FIRST_LETTER, errors="default")
        hit = "".join(p[0] for p in letters if p)
        if len(_WORD_INITIALS) < 100_000:
            _WORD_INITIALS[word] = hit
    return hit


def fast_initials(name: str) -> str:
    """``derive.name_initials`` with caching (pypinyin costs ~25 µs a name)."""
    hit = _NAME_INITIALS.get(name)
    if hit is not None:
        return hit
    if name and RE_HANS.match(name):
        if _PREFIXES is not None and not any(name[i : i + 2] in _PREFIXES for i in range(len(name) - 1)):
            # No phrase can start anywhere: the segmenter cuts the name into single characters.
            result = "".join(map(_word_initials, name)).lower()[:20]
        else:
            result = "".join(_word_initials(w) for w in mmseg.seg.cut(name)).lower()[:20]
    else:
        result = name_initials(name)
    if len(_NAME_INITIALS) < 300_000:
        _NAME_INITIALS[name] = result
    return result


class CellChecks:
    """The problems of an import, and its columns parsed each distinct value once."""

    name: str
    problems: list[Problem]
    progress: Progress
    done: int
    total: int

    def problem(self, table: Table, row: int, column: str, value, reason: str) -> None:
        if len(self.problems) >= MAX_PROBLEMS:
            return
        if isinstance(value, float):
            shown = excel_number(value) if abs(value) >= 1e11 else text(value)
        else:
            shown = "" if value is None else str(value)
        self.problems.append(Problem(table.file, table.sheet, row, column, shown[:60], reason))

    def fail_if_problems(self) -> None:
        if self.problems:
            count = f"至少 {MAX_PROBLEMS}" if len(self.problems) >= MAX_PROBLEMS else str(len(self.problems))
            raise ValidationFailed(
                f"{self.name} 有 {count} 处错误，未导入任何数据；请改正后重新导入", self.problems
            )

    def silent_column(
        self, table: Table | None, header: str, parse: Callable, parsed: dict | None = None
    ) -> list:
        """A column parsed without recording problems (the slices report them): None where a cell is wrong.
        ``parsed`` may carry the values already parsed from another column of the same kind."""
        if table is None or header not in table.index:
            return []
        raw = table.column(table.index[header])
        typed = table.sheet != ""
        keys = list(zip(map(type, raw), raw, strict=True)) if typed else raw
        parsed = {} if parsed is None else parsed
        for key in set(keys).difference(parsed):
            try:
                parsed[key] = parse(key[1] if typed else key)
            except CellError:
                parsed[key] = None
        return list(map(parsed.__getitem__, keys))

    def tick(self, count: int, message: str) -> None:
        self.done += count
        self.progress(min(self.done, self.total), self.total, message)

    def column(self, table: Table, position: int | None, header: str, parse: Callable, ok: bytearray) -> list:
        """Parse one column of every row: each distinct value once (values repeat: 是/否, 0, 户主…). A cell that fails
        becomes a problem and marks its row not ok; its parsed value is None."""
        rows = table.rows
        if position is None:
            return [KEEP] * len(rows)
        raw = table.columns()[position]
        typed = table.sheet != ""  # .xlsx cells carry types: 1, 1.0 and True must not share a cache entry
        keys = list(zip(map(type, raw), raw, strict=True)) if typed else raw
        parsed: dict = {}
        bad: dict = {}
        for key in set(keys):
            try:
                parsed[key] = parse(key[1] if typed else key)
            except CellError as exc:
                bad[key] = str(exc)
        if bad:
            for k, key in enumerate(keys):
                reason = bad.get(key)
                if reason is not None:
                    self.problem(table, rows[k][0], header, raw[k], reason)
                    ok[k] = 0
            parsed.update(dict.fromkeys(bad))
        return list(map(parsed.__getitem__, keys))
