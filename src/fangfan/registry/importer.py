"""Importing the household workbook (DATA-FORMATS §2): sheets 户信息 and 成员信息 of an .xlsx, or the same two
tables as CSV files in a folder.

All-or-nothing: every cell is checked first and every problem collected (file, sheet, row, column, value, reason,
in Chinese); only a clean file is written, in one transaction. Households are upserted by 户编号 and members by
the blind index of their ID number; an unchanged row is not written again, so importing the same file twice
changes nothing the second time. A household or member that is not in the file is left alone, never deleted.

How it runs (a county is 250 000 households / 850 000 members; see benchmarks/import_households.py):

1. read — CSV with the csv module, .xlsx with python-calamine, into plain lists (no dict per row); a CSV file
   without quotes is kept as lines and split where it is checked, in its worker (``_Lines``);
2. load — the stored households the file names, their members, the villages' policy values: every database read
   happens here, in the importing process;
3. check_and_plan — slice by slice of households (a household and its members in one slice): every column parsed
   once per distinct value (values repeat: 是/否, 0, 户主…), ID numbers on an 18-digit fast path, pinyin initials
   cached per word, compared with what is stored, derived figures from ``derive.derive``, and the rows for the
   database prepared (IDs and phones encrypted). For a large file the slices run in forked worker processes
   (``FANGFAN_IMPORT_WORKERS``, default the processors);
4. merge — the checks that need every slice (an ID in two households) or the database (an ID registered in a
   household that is not in the file);
5. write — one transaction: households and members through ``bulkdb`` (SQLite ``executemany``, PostgreSQL
   ``COPY``), one ``household.imported`` audit event and one ``household.updated`` per changed existing household.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import heapq
import io
import multiprocessing
import os
import re
import time
import zlib
from array import array
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from operator import itemgetter, mul
from pathlib import Path
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone
from pypinyin import Style
from pypinyin.constants import RE_HANS
from pypinyin.core import Pinyin
from pypinyin.seg import mmseg

from fangfan.core import audit, crypto
from fangfan.core.errors import ValidationFailed
from fangfan.core.filelimits import check_csv, check_csv_row, check_csv_text, check_xlsx, limits
from fangfan.core.masking import mask_id
from fangfan.core.models import AuditEvent
from fangfan.core.tabular import CellError, Problem, money, repeated_header, text, year_month, yes_no
from fangfan.policy.services import policy_values
from fangfan.regions.codes import Level, level_of
from fangfan.regions.models import Region

from . import bulkdb, formats, staging
from .choices import (
    EDUCATION_LEVELS,
    HEALTH_STATES,
    LABOUR_SKILLS,
    SCHOOL_STATUSES,
    ExitedClass,
    HouseholdType,
    MonitoringState,
)
from .derive import DERIVED_FIELDS, derive, name_initials
from .idnumber import IdNumberError, parse_id
from .models import Household, Member
from .services import elsewhere_shown_record

Progress = Callable[[int, int, str], None]

# --- what we store -------------------------------------------------------------------------------------------

# Household fields the file sets, with the header each comes from.
H_INPUT: list[tuple[str, str]] = [
    ("region", "行政区划代码"),
    ("household_type", "户类型"),
    ("exit_year", "脱贫年度"),
    ("exited_class", "脱贫户分类"),
    ("monitoring_type", "监测对象类型"),
    ("monitoring_state", "监测状态"),
    ("identified_month", "识别监测时间"),
    ("eliminated_month", "风险消除时间"),
    ("grade", "分类定级"),
    ("phone", "联系电话"),
    ("wage_income", "工资性收入"),
    ("business_income", "生产经营性收入"),
    ("business_expense", "生产经营性支出"),
    ("property_income", "财产性收入"),
    ("transfer_income", "转移性收入"),
    ("compliant_self_paid", "合规自付支出"),
    ("food_clothing_secure", "吃穿不愁"),
    ("housing_grade", "住房安全等级"),
    ("water_safe", "饮水安全"),
]
H_FIELDS = [f for f, _h in H_INPUT]
H_ALL = H_FIELDS + list(DERIVED_FIELDS)  # compared and written
H_LABEL = {f: h for f, h in H_INPUT} | {
    "size": "家庭人口",
    "net_income": "家庭纯收入",
    "per_capita_income": "年人均纯收入",
    "education_secure": "义务教育有保障",
    "medical_secure": "基本医疗有保障",
    "has_labour": "有劳动能力",
    "head_name": "户主姓名",
    "head_initials": "户主拼音首字母",
    "suggestion": "系统建议分类",
    "suggestion_reason": "建议理由",
}

# Member fields the file sets (compared and written), in a fixed order.
M_FIELDS = [
    "name",
    "name_initials",
    "relation",
    "is_head",
    "education",
    "school_status",
    "not_in_school_reason",
    "health",
    "serious_illness",
    "chronic_illness",
    "disabled",
    "disability_category",
    "disability_grade",
    "labour_skill",
    "migrant_months",
    "migrant_place",
    "resident_medical",
    "employee_medical",
    "resident_pension",
    "dibao",
    "tekun",
    "phone",
]
M_POS = {f: i for i, f in enumerate(M_FIELDS)}
# What an ID number gives (written with a new member, or when a changed member is rewritten).
M_ID_FIELDS = ["id_number", "id_index", "id_masked", "id_last4", "birth_date", "sex"]
# The trigger that fills a member's ``household_region`` when a writer leaves it empty (registry migration 0010).
REGION_TRIGGER = "registry_member_region_insert"
MAX_PROBLEMS = 10_000
ANALYZE_AT = 5_000  # rows written from which an import refreshes the planner's statistics
AUDIT_DETAIL_KEYS = 12
PREVIEW_HOUSEHOLDS = 100  # the households an import's summary names, with what changes (first by 户编号)
AUDIT_DETAIL_MEMBERS = 10


class _Keep:
    """A column the file does not have: keep what is stored (or the default for a new row)."""

    def __reduce__(self):
        return "KEEP"

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


@dataclass
class ImportSummary:
    """What an import read and what it did (or, in a dry run, would do)."""

    file: str
    dry_run: bool
    households_read: int = 0
    members_read: int = 0
    households_created: int = 0
    households_updated: int = 0
    households_unchanged: int = 0
    members_created: int = 0
    members_updated: int = 0
    members_unchanged: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    # The first households (by 户编号) the import creates or changes: {"number", "kind", "what"} — field names and
    # counts only, no values (the job keeps this summary).
    preview: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, for benchmarks

    @property
    def changed(self) -> bool:
        return bool(
            self.households_created or self.households_updated or self.members_created or self.members_updated
        )

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "dry_run": self.dry_run,
            "households_read": self.households_read,
            "members_read": self.members_read,
            "households_created": self.households_created,
            "households_updated": self.households_updated,
            "households_unchanged": self.households_unchanged,
            "members_created": self.members_created,
            "members_updated": self.members_updated,
            "members_unchanged": self.members_unchanged,
            "ignored_columns": self.ignored_columns,
            "preview": self.preview,
            "seconds": round(self.seconds, 2),
        }

    def describe(self) -> str:
        """The summary in a sentence, as the command and the web page show it."""
        head = "检查通过（试导入，未写入任何数据）" if self.dry_run else "导入完成"
        verb = "将" if self.dry_run else ""
        text_ = (
            f"{head}：读取农户 {self.households_read} 户、成员 {self.members_read} 人；"
            f"农户{verb}新增 {self.households_created}、{verb}更新 {self.households_updated}、"
            f"未变 {self.households_unchanged}；成员{verb}新增 {self.members_created}、"
            f"{verb}更新 {self.members_updated}、未变 {self.members_unchanged}。"
        )
        if self.ignored_columns:
            text_ += f"以下列未使用：{'、'.join(self.ignored_columns)}。"
        return text_


# --- reading --------------------------------------------------------------------------------------------------


class _Lines:
    """A CSV file's data rows not yet split into cells: a file with no quote character and no lone carriage return,
    whose every line is one row and whose cells are what lies between the commas (exactly what ``csv.reader``
    would give). The importing process reads a county's member file (850 000 rows of 19 cells) this way and splits
    only the column it cuts the file by; each slice goes to its worker process as one string, split there. Split in
    the importing process instead, the 16 million cells were copied into each worker page by page as it touched
    them (fork's copy-on-write: ≈ 2.3 s of system time in each worker, ≈ 1 GB more memory)."""

    __slots__ = ("blob", "lines", "numbers")

    def __init__(self, numbers: array, *, lines: list[str] | None = None, blob: str | None = None):
        self.numbers = numbers  # each row's number as the file shows it (the header is row 1)
        self.lines = lines
        self.blob = blob  # the rows joined by "\n": one object to hand to a worker process

    def all_lines(self) -> list[str]:
        if self.lines is None:
            self.lines = self.blob.split("\n") if self.numbers else []
            self.blob = None
        return self.lines

    def cells(self, width: int) -> list[tuple[int, list]]:
        pad = [""] * width
        rows = []
        append = rows.append
        for number, line in zip(self.numbers, self.all_lines(), strict=True):
            cells = line.split(",")
            if len(cells) < width:
                cells += pad[len(cells) :]
            append((number, cells))
        return rows

    def column(self, position: int) -> list[str]:
        out = []
        append = out.append
        for line in self.all_lines():
            parts = line.split(",", position + 1)
            append(parts[position] if len(parts) > position else "")
        return out

    def pick(self, picks: list[int]) -> _Lines:
        lines = self.all_lines()
        return _Lines(array("l", [self.numbers[k] for k in picks]), blob="\n".join([lines[k] for k in picks]))


@dataclass
class _Table:
    file: str
    sheet: str  # the sheet name of an .xlsx; "" for a CSV file
    headers: list[str]
    # (row number as Excel shows it, cells); None while ``lines`` hold the rows
    parsed: list[tuple[int, list]] | None
    kind: str = ""  # "household" / "member"
    index: dict[str, int] = field(default_factory=dict)  # our header → column position
    ignored: list[str] = field(default_factory=list)
    # our header → every column position it was found at, where it was found more than once
    repeated: dict[str, list[int]] = field(default_factory=dict)
    lines: _Lines | None = None
    _columns: list[tuple] | None = None

    @property
    def rows(self) -> list[tuple[int, list]]:
        if self.parsed is None:
            self.parsed = self.lines.cells(len(self.headers))
            self.lines = None
        return self.parsed

    @property
    def count(self) -> int:
        return len(self.parsed) if self.parsed is not None else len(self.lines.numbers)

    def columns(self) -> list[tuple]:
        """The cells column by column (one transposition, in C), each as long as ``rows``."""
        if self._columns is None:
            width = len(self.headers)
            rows = self.rows
            self._columns = list(zip(*[cells for _row, cells in rows], strict=False)) if rows else []
            if (
                len(self._columns) < width
            ):  # no row reaches the last header (xlsx rows are cut at the last cell)
                self._columns += [("",) * len(rows)] * (width - len(self._columns))
        return self._columns

    def column(self, position: int) -> list:
        """One column's cells, without transposing the whole table (the importing process needs two columns of a
        county's file before cutting it into slices; each slice transposes its own rows)."""
        if self._columns is not None:
            return list(self._columns[position])
        if self.parsed is None:
            return self.lines.column(position)
        pick = itemgetter(position)
        return [pick(cells) for _row, cells in self.parsed]


def _decode(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(
        f"{name}：文件既不是 UTF-8 也不是 GB18030 编码的 CSV，请用 Excel 另存为“CSV UTF-8”后再导入"
    )


def _read_csv(path: Path, name: str) -> _Table:
    bound = limits()
    check_csv(path, name, bound)
    text_ = _decode(path.read_bytes(), name)
    check_csv_text(text_, name, bound)
    if "\x00" in text_:
        raise ValidationFailed(
            f"{name}：文件中含有空字符（NUL），不是正常的 CSV 文件，请用 Excel 另存为 CSV 后再导入"
        )
    lines = _plain_lines(text_)
    if lines is not None:
        headers = next(csv.reader(lines[:1]))
        check_csv_row(name, 1, len(headers), bound)
        numbers = array("l")
        kept = []
        for number, line in enumerate(lines[1:], start=2):
            if line.replace(",", "").strip():  # a row of empty cells is no row (as below)
                numbers.append(number)
                kept.append(line)
        del lines
        return _Table(
            file=name,
            sheet="",
            headers=[str(h).strip() for h in headers],
            parsed=None,
            lines=_Lines(numbers, lines=kept),
        )
    reader = csv.reader(io.StringIO(text_))
    rows = []
    append = rows.append
    try:
        headers = next(reader, None)
        if headers is None:
            raise ValidationFailed(f"{name}：文件是空的")
        width = len(headers)
        check_csv_row(name, 1, width, bound)
        for number, cells in enumerate(reader, start=2):
            check_csv_row(name, number, len(cells), bound)
            if not "".join(cells).strip():
                continue
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            append((number, cells))
    except csv.Error as exc:
        raise ValidationFailed(f"{name}：第{reader.line_num}行不是正确的 CSV 格式（{exc}）") from None
    return _Table(file=name, sheet="", headers=[str(h).strip() for h in headers], parsed=rows)


def _plain_lines(text_: str) -> list[str] | None:
    """The lines of a CSV text in which a line is a row and a comma separates cells — no quote character, no
    carriage return but before a line feed, a header line that is not empty — else None (``csv.reader`` reads it)."""
    if '"' in text_:
        return None
    if "\r" in text_:
        text_ = text_.replace("\r\n", "\n")
        if "\r" in text_:
            return None
    lines = text_.split("\n")
    if not lines[0].strip():
        return None
    return lines


def _read_xlsx(path: Path, name: str) -> list[_Table]:
    from python_calamine import CalamineWorkbook

    # Before calamine allocates: it sizes a sheet by its cells' positions (a 5 KB file can ask for 550 GB).
    check_xlsx(path, name, limits())
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise ValidationFailed(
            f"{name}：无法读取 Excel 文件（{type(exc).__name__}），请确认它是 .xlsx 格式"
        ) from exc
    tables = []
    for sheet_name in workbook.sheet_names:
        data = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        start = next((i for i, r in enumerate(data) if any(c not in ("", None) for c in r)), None)
        if start is None:
            tables.append(_Table(file=name, sheet=sheet_name.strip(), headers=[], parsed=[]))
            continue
        headers = [text(h) for h in data[start]]
        width = len(headers)
        rows = []
        for i in range(start + 1, len(data)):
            cells = data[i]
            if not any(c not in ("", None) for c in cells):
                continue
            if len(cells) < width:
                cells = list(cells) + [""] * (width - len(cells))
            rows.append((i + 1, cells))
        tables.append(_Table(file=name, sheet=sheet_name.strip(), headers=headers, parsed=rows))
    return tables


def _read_sources(path: Path, display_name: str | None) -> list[_Table]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
        if not files:
            raise ValidationFailed(
                f"{display_name or path.name}：文件夹中没有 CSV 文件（应有 户信息.csv 和 成员信息.csv）"
            )
        return [_read_csv(p, p.name) for p in files]
    name = display_name or path.name
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [_read_csv(path, name)]
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, name)
    raise ValidationFailed(f"{name}：不支持的文件类型“{suffix}”，请使用 .xlsx 或 .csv")


def _classify(table: _Table) -> None:
    """Decide what a table holds (by its sheet/file name, else by its headers) and map its headers."""
    stem = table.sheet or Path(table.file).stem
    normalised = [formats.normalise_header(h) for h in table.headers]
    if stem.strip() == formats.HOUSEHOLD_SHEET:
        kind = "household"
    elif stem.strip() == formats.MEMBER_SHEET:
        kind = "member"
    else:
        canon = {formats.MEMBER_ALIASES.get(h, h) for h in normalised} | {
            formats.HOUSEHOLD_ALIASES.get(h, h) for h in normalised
        }
        if "户编号" in canon and "证件号码" in canon:
            kind = "member"
        elif "户编号" in canon and ("行政区划代码" in canon or "户类型" in canon):
            kind = "household"
        else:
            kind = ""
    table.kind = kind
    if not kind:
        return
    columns = formats.HOUSEHOLD_COLUMNS if kind == "household" else formats.MEMBER_COLUMNS
    aliases = formats.HOUSEHOLD_ALIASES if kind == "household" else formats.MEMBER_ALIASES
    ours = {c.header for c in columns}
    for position, (raw, norm) in enumerate(zip(table.headers, normalised, strict=True)):
        if not norm:
            continue
        canonical = norm if norm in ours else aliases.get(norm)
        if canonical is None:
            if norm not in formats.DERIVED_HEADERS:
                table.ignored.append(raw)
            continue
        first = table.index.setdefault(canonical, position)
        if first != position:
            table.repeated.setdefault(canonical, [first]).append(position)


# --- cell checks ----------------------------------------------------------------------------------------------


def _required(parse: Callable) -> Callable:
    def required(value):
        result = parse(value)
        if result in ("", None):
            raise CellError("必填")
        return result

    return required


def _household_number(raw) -> str:
    if isinstance(raw, float) and abs(raw) >= 1e15 or isinstance(raw, str) and _SCI.match(raw.strip()):
        raise CellError(
            "户编号必须是文本格式，Excel 已把它变成数字（末几位已丢失），请将该列设置为文本格式后重新填写"
        )
    try:
        return formats.clean_household_number(text(raw))
    except ValueError as exc:
        raise CellError(str(exc)) from None


def _choice(values: dict[str, str] | list[str], *, shown: list[str] | None = None) -> Callable:
    """A value from a list: the words of ``values`` (a list, or a dict of accepted words → stored code)."""
    mapping = values if isinstance(values, dict) else {v: v for v in values}
    reason = f"应为以下之一：{'、'.join(shown if shown is not None else list(values))}"

    def parse(value):
        raw = text(value)
        if raw == "":
            return ""
        try:
            return mapping[raw]
        except KeyError:
            raise CellError(reason) from None

    return parse


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


def _months(value) -> int | None:
    raw = text(value)
    if raw == "":
        return None
    if not raw.isdigit() or not 0 <= int(raw) <= 12:
        raise CellError("务工时间应为 0–12 的整数（月）")
    return int(raw)


def _phone(value) -> str | _Keep:
    raw = text(value)
    if "*" in raw:
        return KEEP  # a masked phone from our own export: keep what is stored
    try:
        return formats.clean_phone(raw)
    except ValueError as exc:
        raise CellError(str(exc)) from None


def _year(value) -> int | None:
    raw = text(value)
    if raw == "":
        return None
    if not (len(raw) == 4 and raw.isdigit() and 1980 <= int(raw) <= date.today().year):
        raise CellError(f"脱贫年度应为四位年份，例如 2019（1980–{date.today().year}）")
    return int(raw)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _bounded(limit: int) -> Callable:
    def parse(value):
        raw = text(value)
        if len(raw) > limit:
            raise CellError(f"过长（最多{limit}个字）")
        if _CONTROL.search(raw):
            raise CellError("含有不可见的控制字符，请删除后重新填写")
        return raw

    return parse


_MONEY_MAX = Decimal("999999999999.99")  # the column holds 14 digits, 2 of them decimals


def _money(value, *, required: bool) -> Decimal | None:
    try:
        amount = money(value, required=required)
    except ArithmeticError:  # e.g. 1E30: beyond what Decimal quantizes
        raise CellError("金额过大") from None
    if amount is not None and amount > _MONEY_MAX:
        raise CellError("金额过大")
    return amount


def _required_money(value):
    return _money(value, required=True)


def _optional_money(value):
    amount = _money(value, required=False)
    return Decimal("0.00") if amount is None else amount


def _month(value) -> str:
    return year_month(value) or ""


_SCI = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


def _excel_number(value: float) -> str:
    """A long number as Excel shows it once it is a number: 15 significant digits, then zeros."""
    try:
        return str(int(Decimal(f"{value:.15g}")))
    except (ArithmeticError, ValueError):
        return str(value)


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


class _HouseholdView:
    """What ``derive`` reads of a household, without a model instance."""

    __slots__ = (
        "household_type",
        "wage_income",
        "business_income",
        "business_expense",
        "property_income",
        "transfer_income",
        "compliant_self_paid",
        "housing_grade",
        "water_safe",
        "food_clothing_secure",
    )

    def __init__(self, values: dict):
        for key in self.__slots__:
            setattr(self, key, values[key])


HOUSEHOLD_DEFAULTS = {
    "exit_year": None,
    "exited_class": "",
    "monitoring_type": "",
    "monitoring_state": "",
    "identified_month": "",
    "eliminated_month": "",
    "grade": "",
    "phone": "",
    "compliant_self_paid": Decimal("0.00"),
    "food_clothing_secure": None,
    "housing_grade": "",
    "water_safe": None,
}
MEMBER_DEFAULTS = {
    "education": "",
    "school_status": "",
    "not_in_school_reason": "",
    "health": "",
    "serious_illness": False,
    "chronic_illness": False,
    "disabled": False,
    "disability_category": "",
    "disability_grade": "",
    "labour_skill": "",
    "migrant_months": None,
    "migrant_place": "",
    "resident_medical": None,
    "employee_medical": None,
    "resident_pension": None,
    "dibao": None,
    "tekun": None,
    "phone": "",
}


# --- the import -------------------------------------------------------------------------------------------------


class _Import:
    def __init__(
        self, *, path: Path, actor, dry_run: bool, display_name: str | None, progress: Progress | None
    ):
        self.path = path
        self.actor = actor
        self.dry_run = dry_run
        self.name = display_name or path.name
        self.progress = progress or (lambda done, total, message="": None)
        self.problems: list[Problem] = []
        self.today = date.today()
        self.stage_dir: str | None = None  # SQLite: where the slices stage their new rows (``staging``)
        # The command-line operator (actor None) may import everywhere.
        self.span = actor.jurisdiction_range() if actor is not None else ("000000000000", "999999999999~")
        # Cell parsers (plain functions: ``_column`` calls each once per distinct value of a column).
        self.p_text30 = _bounded(30)
        self.p_text50 = _bounded(50)
        self.p_text100 = _bounded(100)
        self.p_yes_no = yes_no
        self.p_money = _optional_money
        self.p_money_req = _required_money
        self.p_month = _month
        self.p_year = _year
        self.p_phone = _phone
        self.p_htype = _choice(formats.HOUSEHOLD_TYPE_VALUES, shown=list(HouseholdType.labels))
        self.p_exited = _choice(formats.EXITED_CLASS_VALUES, shown=list(ExitedClass.labels))
        self.p_montype = _choice(
            formats.MONITORING_TYPE_VALUES,
            shown=[*formats.MONITORING_TYPE_LABELS.values(), "脱贫监测户", "边缘户"],
        )
        self.p_monstate = _choice(formats.MONITORING_STATE_VALUES, shown=list(MonitoringState.labels))
        self.p_housing = _choice(formats.HOUSING_GRADE_VALUES, shown=["A", "B", "C", "D"])
        self.p_relation = _choice(formats.RELATION_VALUES, shown=list(formats.RELATION_VALUES)[:12])
        self.p_education = _choice(EDUCATION_LEVELS)
        self.p_school = _choice(SCHOOL_STATUSES)
        self.p_health = _health
        self.p_dis_cat = _choice(
            formats.DISABILITY_CATEGORY_VALUES, shown=list(formats.DISABILITY_CATEGORY_VALUES)[:7]
        )
        self.p_dis_grade = _choice(
            formats.DISABILITY_GRADE_VALUES, shown=list(formats.DISABILITY_GRADE_VALUES)[:4]
        )
        self.p_labour = _choice(LABOUR_SKILLS)
        self.p_months = _months

    # problems ---------------------------------------------------------------------------------------------------

    def problem(self, table: _Table, row: int, column: str, value, reason: str) -> None:
        if len(self.problems) >= MAX_PROBLEMS:
            return
        if isinstance(value, float):
            shown = _excel_number(value) if abs(value) >= 1e11 else text(value)
        else:
            shown = "" if value is None else str(value)
        self.problems.append(Problem(table.file, table.sheet, row, column, shown[:60], reason))

    def fail_if_problems(self) -> None:
        if self.problems:
            count = f"至少 {MAX_PROBLEMS}" if len(self.problems) >= MAX_PROBLEMS else str(len(self.problems))
            raise ValidationFailed(
                f"{self.name} 有 {count} 处错误，未导入任何数据；请改正后重新导入", self.problems
            )

    # reading ---------------------------------------------------------------------------------------------------

    def read(self) -> tuple[_Table | None, _Table | None]:
        tables = _read_sources(self.path, self.name)
        found: dict[str, _Table] = {}
        for table in tables:
            _classify(table)
            if not table.kind:
                continue
            if table.kind in found:
                other = found[table.kind]
                label = formats.HOUSEHOLD_SHEET if table.kind == "household" else formats.MEMBER_SHEET
                raise ValidationFailed(
                    f"{self.name}：找到两张“{label}”表（{other.sheet or other.file}、{table.sheet or table.file}），请只保留一张"
                )
            found[table.kind] = table
        if not found:
            raise ValidationFailed(
                f"{self.name}：没有找到“{formats.HOUSEHOLD_SHEET}”或“{formats.MEMBER_SHEET}”表"
                "（工作表名或 CSV 文件名应为 户信息 / 成员信息）"
            )
        for kind, table in found.items():
            columns = formats.HOUSEHOLD_COLUMNS if kind == "household" else formats.MEMBER_COLUMNS
            for column in columns:
                if column.required and column.header not in table.index:
                    self.problem(table, 1, column.header, "", "缺少必需的列（表头）")
            # Two columns for one field: neither is taken (tabular.repeated_header).
            for header, positions in table.repeated.items():
                self.problems.append(
                    repeated_header(table.file, table.sheet, header, table.headers, positions)
                )
        self.fail_if_problems()
        if not any(table.count for table in found.values()):
            raise ValidationFailed(
                f"{self.name}：没有数据行（只有表头或是空的），未导入任何数据；请在表头下填写农户和成员后再导入"
            )
        return found.get("household"), found.get("member")

    # checking -----------------------------------------------------------------------------------------------------

    def run(self) -> ImportSummary:
        started = last = time.monotonic()
        timings: dict[str, float] = {}

        def lap(name: str) -> None:
            nonlocal last
            now = time.monotonic()
            timings[name] = round(now - last, 3)
            last = now

        hh_table, mem_table = self.read()
        lap("read")
        summary = ImportSummary(file=self.name, dry_run=self.dry_run)
        summary.ignored_columns = [
            *(hh_table.ignored if hh_table else []),
            *(mem_table.ignored if mem_table else []),
        ]
        summary.households_read = _size(hh_table)
        summary.members_read = _size(mem_table)
        self.total = 2 * (summary.households_read + summary.members_read) or 1
        self.done = 0
        self.progress(0, self.total, "正在检查")

        # What the database holds for these households (workers never touch the database).
        slices = self.load_state(hh_table, mem_table)
        lap("load")
        with contextlib.ExitStack() as stack:
            if not self.dry_run and staging.wanted():
                self.stage_dir = stack.enter_context(staging.folder())
            # Check every cell, compare with what is stored, derive, encrypt: slice by slice of households.
            results = self.run_slices(slices)
            lap("check_and_plan")
            plan = self.merge(results, hh_table, mem_table)
            lap("merge")
            elsewhere_shown_record(  # the problems say an ID is registered in another household: audited
                actor=self.actor,
                count=sum(p.reason == _ID_ELSEWHERE for p in self.problems),
                via="household_import",
                dry_run=self.dry_run,
            )
            self.fail_if_problems()

            summary.households_created = plan.hh_new
            summary.households_updated = plan.hh_changed
            summary.households_unchanged = plan.hh_unchanged
            summary.members_created = plan.m_new
            summary.members_updated = plan.m_changed
            summary.members_unchanged = plan.m_unchanged
            summary.preview = [{"number": n, "kind": kind, "what": what} for n, kind, what in plan.preview]
            if not self.dry_run and summary.changed:
                self.write(plan, summary, lap)
        summary.seconds = time.monotonic() - started
        summary.timings = timings
        self.progress(self.total, self.total, "完成")
        return summary

    # the database state, before any slice is checked ------------------------------------------------------------

    def load_state(self, hh_table: _Table | None, mem_table: _Table | None) -> list[tuple]:
        """Load the households the file names, their members and the villages' policy values; cut the rows into
        slices by 户编号 (a household and its members always in the same slice)."""
        seen: dict = {}  # the members' 户编号 are mostly the households' again: each parsed once
        hh_numbers = self.silent_column(hh_table, "户编号", _household_number, seen)
        mem_numbers = self.silent_column(mem_table, "户编号", _household_number, seen)
        del seen
        numbers = {n for n in (*hh_numbers, *mem_numbers) if n}
        self.known_villages = set(
            Region.objects.filter(level=int(Level.VILLAGE)).values_list("code", flat=True)
        )
        self.existing = self.load_households(numbers)
        stored = self.load_members([h["pk"] for h in self.existing.values()])
        self.stored_home = {index: m["household_id"] for index, m in stored.items()}
        self.stored_by_household: dict[int, list] = {}
        for m in stored.values():
            self.stored_by_household.setdefault(m["household_id"], []).append(m)
        # Members elsewhere in the system: only then must an unknown ID be looked up (not on a first import, nor
        # on re-importing a whole county).
        self.others_exist = Member.objects.count() > len(stored)
        villages = {h["region"] for h in self.existing.values()}
        villages |= {
            v for v in self.silent_column(hh_table, "行政区划代码", text) if v in self.known_villages
        }
        self.policy_cache = {v: policy_values(region_code=v) for v in villages}
        self.hh_keep = [f for f, h in H_INPUT if hh_table is not None and h not in hh_table.index]
        self.m_keep = [
            M_POS[f]
            for f in M_FIELDS
            if mem_table is not None
            and f in _M_OPTIONAL_HEADER
            and _M_OPTIONAL_HEADER[f] not in mem_table.index
        ]
        if mem_table is not None and "健康状况" not in mem_table.index:
            self.m_keep += [M_POS["serious_illness"], M_POS["chronic_illness"], M_POS["disabled"]]

        rows = len(hh_numbers) + len(mem_numbers)
        self.workers = _workers_for(rows)
        # Several slices per worker (they balance the load) and about 20 000 rows each (each finished slice moves
        # the progress bar).
        count = min(64, max(self.workers * 4 if self.workers > 1 else 1, rows // 20_000))
        if count == 1:
            return [(hh_table, mem_table)]
        slice_of = {n: zlib.crc32(n.encode()) % count for n in numbers}  # the same cut on every run
        hh_picks: list[list[int]] = [[] for _ in range(count)]
        mem_picks: list[list[int]] = [[] for _ in range(count)]
        for picks, column in ((hh_picks, hh_numbers), (mem_picks, mem_numbers)):
            for k, n in enumerate(column):
                picks[slice_of.get(n, 0)].append(k)
        return [(_subtable(hh_table, hh_picks[i]), _subtable(mem_table, mem_picks[i])) for i in range(count)]

    def silent_column(
        self, table: _Table | None, header: str, parse: Callable, parsed: dict | None = None
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

    def run_slices(self, slices: list[tuple]) -> list[_SliceResult]:
        """Each slice in this process, or — for a large file on a machine with several processors — in forked
        worker processes that inherit the tables and the database state (they never use the connection)."""
        results = []
        if self.workers <= 1:
            for hh_sub, mem_sub in slices:
                results.append(self.process_slice(hh_sub, mem_sub))
                self.tick(_size(hh_sub) + _size(mem_sub), "正在检查")
            return results
        global _ACTIVE
        _ACTIVE = (self, slices)
        # The children inherit the open database connection but never use it, and leave through os._exit (as
        # multiprocessing's forked processes do), so nothing of it is closed or written from there.
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:
                for i, result in enumerate(pool.map(_slice_worker, range(len(slices)))):
                    results.append(result)
                    hh_sub, mem_sub = slices[i]
                    self.tick(_size(hh_sub) + _size(mem_sub), "正在检查")
        finally:
            _ACTIVE = None
        return results

    def tick(self, count: int, message: str) -> None:
        self.done += count
        self.progress(min(self.done, self.total), self.total, message)

    def column(
        self, table: _Table, position: int | None, header: str, parse: Callable, ok: bytearray
    ) -> list:
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

    def check_households(self, table: _Table) -> dict[str, tuple[int, dict]]:
        idx = table.index
        known_villages = self.known_villages
        lo, hi = self.span

        def region(value) -> str:
            code = text(value)
            if not code:
                raise CellError("必填")
            if not (len(code) == 12 and code.isdigit()):
                raise CellError("行政区划代码应为12位数字")
            if level_of(code) != Level.VILLAGE:
                raise CellError("应为村级行政区划代码（12位，末三位不为000）")
            if code not in known_villages:
                raise CellError("系统中没有这个村，请先导入行政区划")
            if not (lo <= code < hi):
                raise CellError("该村不在您的管辖范围内")
            return code

        parsers = {
            "region": region,
            "household_type": self.p_htype,
            "exit_year": self.p_year,
            "exited_class": self.p_exited,
            "monitoring_type": self.p_montype,
            "monitoring_state": self.p_monstate,
            "identified_month": self.p_month,
            "eliminated_month": self.p_month,
            "grade": self.p_text30,
            "phone": self.p_phone,
            "wage_income": self.p_money_req,
            "business_income": self.p_money_req,
            "business_expense": self.p_money_req,
            "property_income": self.p_money_req,
            "transfer_income": self.p_money_req,
            "compliant_self_paid": self.p_money,
            "food_clothing_secure": self.p_yes_no,
            "housing_grade": self.p_housing,
            "water_safe": self.p_yes_no,
        }
        ok = bytearray(b"\x01") * len(table.rows)
        numbers = self.column(table, idx["户编号"], "户编号", _household_number, ok)
        columns = [self.column(table, idx.get(h), h, parsers[f], ok) for f, h in H_INPUT]
        out: dict[str, tuple[int, dict]] = {}
        for k, (number, *values) in enumerate(zip(numbers, *columns, strict=True)):
            row = table.rows[k][0]
            record = dict(zip(H_FIELDS, values, strict=True))
            if ok[k]:
                self.check_household_rules(table, row, record)
            if number is None:
                continue
            first = out.get(number)
            if first is not None:
                self.problem(table, row, "户编号", number, f"户编号与第{first[0]}行重复")
                continue
            out[number] = (row, record)
        return out

    def check_household_rules(self, table: _Table, row: int, v: dict) -> None:
        htype = v["household_type"]
        if htype == "":
            self.problem(table, row, "户类型", "", "必填，应为 一般农户 或 脱贫户")
            return
        year = v["exit_year"]
        if htype == HouseholdType.EXITED:
            if year is KEEP:
                self.problem(table, row, "脱贫年度", "", "脱贫户须填写脱贫年度（表中缺少“脱贫年度”列）")
            elif year is None:
                self.problem(table, row, "脱贫年度", "", "脱贫户须填写脱贫年度")
        elif htype == HouseholdType.GENERAL:
            if year not in (None, KEEP):
                self.problem(table, row, "脱贫年度", year, "一般农户不填写脱贫年度")
            if v["exited_class"] not in ("", None, KEEP):
                self.problem(
                    table,
                    row,
                    "脱贫户分类",
                    formats.EXITED_CLASS_LABELS[v["exited_class"]],
                    "只有脱贫户才填写脱贫户分类",
                )
        state, montype = v["monitoring_state"], v["monitoring_type"]
        if state not in ("", None, KEEP) and montype == "":
            self.problem(
                table,
                row,
                "监测状态",
                formats.MONITORING_STATE_LABELS[state],
                "填写监测状态时须填写监测对象类型",
            )
        identified, eliminated = v["identified_month"], v["eliminated_month"]
        if (
            isinstance(identified, str)
            and isinstance(eliminated, str)
            and identified
            and eliminated
            and eliminated < identified
        ):
            self.problem(table, row, "风险消除时间", eliminated, "风险消除时间早于识别监测时间")

    def check_members(self, table: _Table) -> dict[str, list]:
        """Members grouped by 户编号: each ``[row, id_values, values (M_FIELDS order)]`` (``plan`` appends the
        blind index)."""
        idx = table.index
        rows = table.rows
        n = len(rows)
        ok = bytearray(b"\x01") * n
        column = self.column
        numbers = column(table, idx["户编号"], "户编号", _household_number, ok)
        names = column(table, idx["姓名"], "姓名", _required(self.p_text50), ok)
        relations = column(table, idx["与户主关系"], "与户主关系", _required(self.p_relation), ok)
        optional = [
            ("education", "文化程度", self.p_education),
            ("school_status", "在校生状况", self.p_school),
            ("not_in_school_reason", "义务教育阶段未上学原因", self.p_text100),
            ("health", "健康状况", self.p_health),
            ("disability_category", "残疾类别", self.p_dis_cat),
            ("disability_grade", "残疾等级", self.p_dis_grade),
            ("labour_skill", "劳动技能", self.p_labour),
            ("migrant_months", "务工时间（月）", self.p_months),
            ("migrant_place", "务工地", self.p_text100),
            ("resident_medical", "参加城乡居民基本医疗保险", self.p_yes_no),
            ("employee_medical", "参加职工基本医疗保险", self.p_yes_no),
            ("resident_pension", "参加城乡居民基本养老保险", self.p_yes_no),
            ("dibao", "享受低保", self.p_yes_no),
            ("tekun", "特困供养", self.p_yes_no),
            ("phone", "联系电话", self.p_phone),
        ]
        columns = {f: column(table, idx.get(h), h, p, ok) for f, h, p in optional}
        # 健康状况 → the three flags (distinct values are few).
        flags: dict = {KEEP: (KEEP, KEEP, KEEP), None: (None, None, None)}
        for health in set(columns["health"]) - set(flags):
            flags[health] = ("患有大病" in health, "长期慢性病" in health, "残疾" in health)
        serious, chronic, disabled = (
            zip(*[flags[h] for h in columns["health"]], strict=True) if n else ((), (), ())
        )
        columns["serious_illness"], columns["chronic_illness"], columns["disabled"] = (
            serious,
            chronic,
            disabled,
        )
        columns["name"] = names
        columns["name_initials"] = [fast_initials(name) if name else "" for name in names]
        columns["relation"] = relations
        columns["is_head"] = [r == "户主" for r in relations]
        # ID numbers, row by row (each is different).
        ids = self.check_ids(table, idx["证件号码"], ok)

        out: dict[str, list] = {}
        p_cat, p_grade, p_disabled = (
            M_POS["disability_category"],
            M_POS["disability_grade"],
            M_POS["disabled"],
        )
        for k, values in enumerate(zip(*[columns[f] for f in M_FIELDS], strict=True)):
            number = numbers[k]
            id_values = ids[k]
            if not ok[k] or number is None or id_values is None:
                continue
            card = id_values[4]
            if card:  # a 残疾人证号 says the member is disabled, and how
                values = list(values)
                values[p_disabled] = True
                if not values[p_cat]:
                    values[p_cat] = card[0]
                if not values[p_grade]:
                    values[p_grade] = card[1]
                values = tuple(values)
            group = out.get(number)
            if group is None:
                group = out[number] = []
            group.append([rows[k][0], id_values, values])
        return out

    def check_ids(self, table: _Table, position: int, ok: bytearray) -> list:
        today = self.today
        seen: dict[str, int] = {}
        out: list = []
        append = out.append
        for k, (row, cells) in enumerate(table.rows):
            raw_id = cells[position]
            if type(raw_id) is str:
                raw = raw_id.strip()
                if _SCI.match(raw):
                    raw = None
            elif isinstance(raw_id, (float, int)) and not isinstance(raw_id, bool):
                raw = None
            else:
                raw = text(raw_id)
            if raw is None:
                self.problem(
                    table,
                    row,
                    "证件号码",
                    raw_id,
                    "证件号码必须是文本格式，Excel 已把它变成数字（末几位已丢失），请将该列设置为文本格式后重新填写",
                )
                ok[k] = 0
                append(None)
                continue
            if not raw:
                self.problem(table, row, "证件号码", "", "必填")
                ok[k] = 0
                append(None)
                continue
            try:
                id_values = _id_fast(raw, today)
            except IdNumberError as exc:
                self.problem(table, row, "证件号码", raw, f"证件号码无效：{exc}")
                ok[k] = 0
                append(None)
                continue
            first = seen.get(id_values[1])
            if first is not None:
                self.problem(table, row, "证件号码", raw, f"证件号码与第{first}行重复")
                ok[k] = 0
                append(None)
                continue
            seen[id_values[1]] = row
            append(id_values)
        return out

    # comparing with what is stored -----------------------------------------------------------------------------

    def process_slice(self, hh_table: _Table | None, mem_table: _Table | None) -> _SliceResult:
        """Check, compare and prepare one slice of households and their members (no database access)."""
        self.problems = []
        result = _SliceResult()
        households = self.check_households(hh_table) if hh_table is not None else {}
        members = self.check_members(mem_table) if mem_table is not None else {}
        if self.problems:  # wrong cells: reported alone (what follows from them would only confuse)
            result.problems, result.cell_problems = self.problems, True
            result.ids = [(e[1][1], e[0]) for group in members.values() for e in group]
            return result
        existing = self.existing
        lo, hi = self.span

        # Households: in our jurisdiction, not cancelled.
        for number, (row, _values) in households.items():
            old = existing.get(number)
            if old is None:
                continue
            if not (lo <= old["region"] < hi):
                self.problem(hh_table, row, "户编号", number, "该户编号已被其他辖区的农户使用")
            elif old["cancelled"]:
                self.problem(hh_table, row, "户编号", number, "该户已注销，不能再导入")
        for number, group in members.items():
            if number in households:
                continue
            old = existing.get(number)
            if old is None:
                for row, *_rest in group:
                    self.problem(mem_table, row, "户编号", number, "户编号在“户信息”表和系统中都不存在")
            elif not (lo <= old["region"] < hi):
                for row, *_rest in group:
                    self.problem(mem_table, row, "户编号", number, "该户不在您的管辖范围内")
            elif old["cancelled"]:
                for row, *_rest in group:
                    self.problem(mem_table, row, "户编号", number, "该户已注销，不能再导入成员")

        # Members: blind indexes; who is already in the system, and where.
        index_of = crypto.indexer(purpose="id")
        stored_home = self.stored_home
        for number, group in members.items():
            own = existing.get(number)
            own_pk = own["pk"] if own else None
            for entry in group:
                row, id_values = entry[0], entry[1]
                index = index_of(id_values[1])
                entry.append(index)
                result.ids.append((id_values[1], row))
                home = stored_home.get(index)
                if home is not None and home != own_pk:
                    self.problem(mem_table, row, "证件号码", id_values[0], _ID_ELSEWHERE)
                elif home is None and self.others_exist:
                    result.unknown.append((index, row, own_pk, id_values[0]))
        if not self.problems:
            for number in dict.fromkeys([*households, *members]):
                self.plan_household(
                    result,
                    number,
                    households.get(number),
                    members.get(number, []),
                    existing.get(number),
                    hh_table,
                    mem_table,
                )
        if self.problems:
            result.problems = self.problems
            result.clear_rows()
            return result
        result.preview = _preview(result)
        if self.dry_run:
            result.drop_plan()
        else:
            self.prepare_rows(result)
        return result

    def plan_household(self, plan, number, hh, group, old, hh_table, mem_table) -> None:
        own_pk = old["pk"] if old else None
        stored = self.stored_by_household.get(own_pk, []) if own_pk else []
        stored_by_index = {m["id_index"]: m for m in stored}
        for row, id_values, _values, index in group:
            current = stored_by_index.get(index)
            if current is not None and current["status"] != Member.Status.ACTIVE:
                self.problem(
                    mem_table,
                    row,
                    "证件号码",
                    id_values[0],
                    "该成员在系统中已办理减少，如需恢复请在系统中办理增加成员",
                )
                return
        in_file = {e[3] for e in group}
        # Heads: file rows, plus stored active members the file does not mention.
        heads = [e[0] for e in group if e[2][3]]
        kept_heads = [
            m
            for m in stored
            if m["status"] == Member.Status.ACTIVE and m["is_head"] and m["id_index"] not in in_file
        ]
        if len(heads) + len(kept_heads) > 1:
            if len(heads) > 1:
                self.problem(
                    mem_table,
                    heads[1],
                    "与户主关系",
                    "户主",
                    f"每户只能有一个户主，该户已在第{heads[0]}行填写户主",
                )
            else:
                self.problem(
                    mem_table,
                    heads[0],
                    "与户主关系",
                    "户主",
                    "该户在系统中已有户主，每户只能有一个户主（变更户主请在系统中办理）",
                )
            return
        if len(heads) + len(kept_heads) == 0:
            if hh is not None:
                self.problem(
                    hh_table,
                    hh[0],
                    "户编号",
                    number,
                    "该户没有户主（“成员信息”表中须有一行与户主关系为“户主”）",
                )
            else:
                self.problem(
                    mem_table,
                    group[0][0],
                    "与户主关系",
                    group[0][2][2],
                    "该户没有户主（须有一名成员与户主关系为“户主”）",
                )
            return
        if len(self.problems) >= MAX_PROBLEMS:
            return

        # Household values: the file's, else what is stored, else defaults.
        values = dict(hh[1]) if hh is not None else {f: KEEP for f in H_FIELDS}
        for f in self.hh_keep if hh is not None else H_FIELDS:
            values[f] = old[f] if old else HOUSEHOLD_DEFAULTS.get(f)
        if values["phone"] is KEEP:  # a masked phone (from our own export): keep the stored one
            values["phone"] = old["phone"] if old else ""

        # Members after the import: stored ones the file does not mention, and the file's (merged with stored).
        member_changes = []  # ("new", entry, final) / ("changed", entry, final, stored)
        facts = []
        head_name = ""
        keep = self.m_keep
        for m in stored:
            if m["id_index"] in in_file or m["status"] != Member.Status.ACTIVE:
                continue
            facts.append(_facts(m["values"], m["birth_date"]))
            if m["values"][_HEAD]:
                head_name = m["values"][0]
        for entry in group:
            new_values = entry[2]
            current = stored_by_index.get(entry[3]) if stored_by_index else None
            if current is None:
                final = new_values
                if keep or final[_M_PHONE] is KEEP:
                    final = list(final)
                    for i in keep:
                        final[i] = MEMBER_DEFAULTS.get(M_FIELDS[i])
                    if final[_M_PHONE] is KEEP:
                        final[_M_PHONE] = ""
                member_changes.append(("new", entry, final))
            else:
                old_values = current["values"]
                final = list(new_values)
                for i in keep:
                    final[i] = old_values[i]
                if final[_M_PHONE] is KEEP:
                    final[_M_PHONE] = old_values[_M_PHONE]
                if final != old_values:
                    member_changes.append(("changed", entry, final, current))
                else:
                    plan.m_unchanged += 1
            facts.append(_facts(final, entry[1][2]))
            if final[_HEAD]:
                head_name = final[0]

        if old is not None and not member_changes and all(values[f] == old[f] for f in H_FIELDS):
            # Nothing the file says differs from what is stored: not written again (the derived figures follow
            # from these same inputs; a change of policy is applied by recomputing, not by re-importing).
            plan.hh_unchanged += 1
            return

        # Preloaded for every village of the file (load_state): a worker process never queries the database.
        policy = self.policy_cache[values["region"]]
        derived = derive(_HouseholdView(values), facts, policy, today=self.today)
        derived["head_name"] = head_name
        derived["head_initials"] = fast_initials(head_name) if head_name else ""
        values.update(derived)

        if old is None:
            plan.hh_new.append((number, values))
        else:
            changed = {f for f in H_ALL if values[f] != old[f]}
            if changed or member_changes:
                plan.hh_changed.append(
                    (number, old, values, _audit_detail(old, values, changed, member_changes))
                )
            else:
                plan.hh_unchanged += 1
        for change in member_changes:
            if change[0] == "new":
                plan.m_new.append((number, change[1], change[2]))
            else:
                plan.m_changed.append((number, change[1], change[2], change[3]))

    def load_households(self, numbers: set[str]) -> dict[str, dict]:
        """Stored households among ``numbers``, read with raw SQL (Django's conversions of a county's amounts took
        6.5 s, see ``bulkdb.decimals_converted``). When the file names most of the table (re-importing a county), one
        scan of the table; otherwise the rows of those numbers only."""
        fields = ["pk", "number", "cancelled", "region_id", *[f for f in H_ALL if f != "region"]]
        names = ["id", "number", "cancelled", "region", *[f for f in H_ALL if f != "region"]]
        qn = connection.ops.quote_name
        table = qn(Household._meta.db_table)
        columns = ", ".join(qn(c) for c in bulkdb.columns_of(Household, names))
        self.household_count = Household.objects.count()
        if len(numbers) > 20_000 and len(numbers) * 2 > self.household_count:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {columns} FROM {table}")  # noqa: S608
                rows = cursor.fetchall()
        else:
            rows = bulkdb.fetch_in(f"SELECT {columns} FROM {table} WHERE number", sorted(numbers))  # noqa: S608
        rows = bulkdb.decimals_converted(Household, names, rows)
        decrypt = crypto.decryptor()
        out = {}
        for row in rows:
            if row[1] in numbers:
                record = dict(zip(fields, row, strict=True))
                record["region"] = record.pop("region_id")
                if record["phone"]:  # raw SQL: the phone as stored, encrypted
                    record["phone"] = decrypt(record["phone"])
                out[row[1]] = record
        return out

    def load_members(self, household_pks: list[int]) -> dict[str, dict]:
        """Stored members of these households by blind index, their values in M_FIELDS order. Raw SQL (Django's
        SQLite connection still turns bool columns into Python bools; psycopg does by itself), phones decrypted with
        the key object made once."""
        if not household_pks:
            return {}
        fields = ["id", "household", "status", "id_index", "birth_date", *M_FIELDS]
        names = [connection.ops.quote_name(c) for c in bulkdb.columns_of(Member, fields)]
        if connection.vendor == "sqlite":
            # The birth date as its text (a unary + drops the declared type that makes the driver parse each one):
            # parsed here once per distinct date (≈ 30 000 among a county's 853 000 members).
            names[4] = f"+{names[4]}"
        columns = ", ".join(names)
        table = connection.ops.quote_name(Member._meta.db_table)
        births: dict = {}
        decrypt = crypto.decryptor()
        phone = 5 + M_POS["phone"]
        head = 5 + M_POS["is_head"]
        out = {}
        if len(household_pks) > 20_000 and len(household_pks) * 2 > self.household_count:
            wanted = set(household_pks)  # most of the table: one scan
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {columns} FROM {table}")  # noqa: S608
                rows = [row for row in cursor.fetchall() if row[1] in wanted]
        else:
            rows = bulkdb.fetch_in(f"SELECT {columns} FROM {table} WHERE household_id", household_pks)  # noqa: S608
        for row in rows:
            values = list(row[5:])
            if row[phone]:
                values[M_POS["phone"]] = decrypt(row[phone])
            birth = row[4]
            if isinstance(birth, str):
                birth = births.get(row[4])
                if birth is None:
                    birth = births[row[4]] = date.fromisoformat(row[4])
            out[row[3]] = {
                "pk": row[0],
                "household_id": row[1],
                "status": row[2],
                "id_index": row[3],
                "birth_date": birth,
                "is_head": bool(row[head]),
                "values": values,
            }
        return out

    def load_member_homes(self, indexes: list[str]) -> dict[str, int]:
        """Blind index → household of members already in the system (any household)."""
        if not indexes:
            return {}
        table = Member._meta.db_table
        wanted = set(indexes)
        if len(indexes) > 20_000 and len(indexes) * 2 > Member.objects.count():
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT id_index, household_id FROM {connection.ops.quote_name(table)}")  # noqa: S608
                return {i: h for i, h in cursor.fetchall() if i in wanted}
        rows = bulkdb.fetch_in(
            f"SELECT id_index, household_id FROM {connection.ops.quote_name(table)} WHERE id_index",
            indexes,  # noqa: S608
        )
        return dict(rows)

    # writing ---------------------------------------------------------------------------------------------------

    def prepare_rows(self, result: _SliceResult) -> None:
        """Turn the slice's plan into the rows the database receives: encrypted, masked, in column order. The
        household of a new member is its 户编号 here; the parent puts in the id."""
        enc = crypto.encryptor()
        if self.stage_dir is not None and (result.hh_new or result.m_new):
            # Staged (SQLite): rows of (户编号, *columns), built once, straight into this process's staging file.
            result.staged = staging.append(
                self.stage_dir,
                [(number, *_h_row(values, enc)) for number, values in result.hh_new],
                [
                    (number, *_id_row(entry[1], entry[3], enc), *_m_row(final, _M_PHONE, enc))
                    for number, entry, final in result.m_new
                ],
            )
            staged_new = True
        else:
            staged_new = False
        result.hh_new_rows = (
            [] if staged_new else [(number, tuple(_h_row(values, enc))) for number, values in result.hh_new]
        )
        result.hh_changed_rows = [
            (old["pk"], number, tuple(_h_row(values, enc)), values["region"], detail)
            for number, old, values, detail in result.hh_changed
        ]
        result.m_new_rows = (
            []
            if staged_new
            else [
                (number, (*_id_row(entry[1], entry[3], enc), *_m_row(final, _M_PHONE, enc)))
                for number, entry, final in result.m_new
            ]
        )
        result.m_changed_rows = [
            (
                current["pk"],
                number,
                (*_id_row(entry[1], entry[3], enc), *_m_row(final, _M_PHONE, enc)),
                bool(current["values"][_HEAD] and not final[_HEAD]),  # a head stepping down
            )
            for number, entry, final, current in result.m_changed
        ]
        result.drop_plan()

    def merge(self, results: list[_SliceResult], hh_table, mem_table) -> _Merged:
        """The slices' results together; the checks that need every slice (an ID in two households of the file)
        or the database (an ID already registered elsewhere)."""
        merged = _Merged()
        problems: list[Problem] = []
        # An ID twice in the file is a wrong cell, found here when the two rows fell in different slices.
        duplicates: list[Problem] = []
        if mem_table is not None and len(results) > 1:
            first: dict[str, int] = {}
            for id18, row in sorted((pair for r in results for pair in r.ids), key=lambda p: p[1]):
                seen = first.get(id18)
                if seen is None:
                    first[id18] = row
                else:
                    duplicates.append(
                        Problem(
                            mem_table.file,
                            mem_table.sheet,
                            row,
                            "证件号码",
                            id18,
                            f"证件号码与第{seen}行重复",
                        )
                    )
        # Wrong cells are reported alone, as in a single slice: what follows from them would only confuse.
        cell_stage = bool(duplicates) or any(r.cell_problems for r in results)
        problems.extend(duplicates)
        for r in results:
            if r.cell_problems or not cell_stage:
                problems.extend(r.problems)
            merged.hh_new += r.n_hh_new
            merged.hh_changed += r.n_hh_changed
            merged.hh_unchanged += r.hh_unchanged
            merged.m_new += r.n_m_new
            merged.m_changed += r.n_m_changed
            merged.m_unchanged += r.m_unchanged
            merged.results.append(r)
        merged.preview = heapq.nsmallest(PREVIEW_HOUSEHOLDS, (p for r in results for p in r.preview))
        unknown = [u for r in results for u in r.unknown]
        if unknown and mem_table is not None and not cell_stage:
            homes = self.load_member_homes([u[0] for u in unknown])
            for index, row, own_pk, shown in unknown:
                home = homes.get(index)
                if home is not None and home != own_pk:
                    problems.append(
                        Problem(mem_table.file, mem_table.sheet, row, "证件号码", shown, _ID_ELSEWHERE)
                    )
        # Households' sheet first, then members'; within a sheet by row (a row's cells stay in column order).
        first_table = (hh_table.file, hh_table.sheet) if hh_table is not None else None
        problems.sort(key=lambda p: ((p.file, p.sheet) != first_table, p.row))
        self.problems = problems[:MAX_PROBLEMS]
        return merged

    def write(self, plan: _Merged, summary: ImportSummary, lap: Callable[[str], None]) -> None:
        files = sorted({r.staged for r in plan.results if r.staged})
        with staging.attached(files) as schemas:
            if files and schemas is None:
                # Inside a caller's transaction: the rows come back the ordinary way (a file holds every slice its
                # process checked, so each file is read once, into the first of its slices).
                read: set[str] = set()
                for r in plan.results:
                    if r.staged and r.staged not in read:
                        read.add(r.staged)
                        r.hh_new_rows = staging.read_back(r.staged, "hh")
                        r.m_new_rows = staging.read_back(r.staged, "m")
                    r.staged = ""
            self.write_rows(plan, summary, lap, schemas or [])

    def write_rows(self, plan: _Merged, summary: ImportSummary, lap: Callable[[str], None], schemas) -> None:
        now = timezone.now()
        stamp = bulkdb.db_datetime(now)
        half = self.total // 2
        qn = connection.ops.quote_name
        with transaction.atomic():
            # The summary event first: it takes the audit chain's lock, held until commit.
            event = audit.record(
                self.actor,
                "household.imported",
                object_type="registry.household",
                object_label=self.name[:200],
                region_code=getattr(self.actor, "region_id", "") or "",
                after={
                    "file": self.name,
                    **{
                        k: v
                        for k, v in summary.as_dict().items()
                        if k.startswith(("households_", "members_"))
                    },
                },
            )
            self.progress(half, self.total, "正在写入农户")
            # New households, with ids drawn first so their members can point at them.
            new = [row for r in plan.results for row in r.hh_new_rows]
            ids = bulkdb.reserve_ids(Household, len(new))
            pk_of = {}
            region_of = {}  # the village of each household that gains members: the members carry it
            rows = []
            for pk, (number, values) in zip(ids, new, strict=True):
                pk_of[number] = pk
                region_of[number] = values[_H_REGION]
                rows.append((pk, number, *values, False, "", stamp, stamp))
            hh_cols = ["id", "number", *H_ALL, "cancelled", "cancelled_reason", "created_at", "updated_at"]
            staged = sum(r.n_hh_new for r in plan.results if r.staged)
            with bulkdb.indexes_deferred(Household, len(rows) + staged):
                bulkdb.insert_rows(Household, hh_cols, rows, adapt=False)
                tail = [False, "", stamp, stamp]
                cols = ", ".join(qn(c) for c in bulkdb.columns_of(Household, hh_cols[1:]))
                picks = ", ".join(f"c{i}" for i in range(1 + len(H_ALL)))
                copied = self.copy_staged(
                    schemas,
                    "hh",
                    f"INSERT INTO {qn(Household._meta.db_table)} ({cols}) SELECT {picks}, %s, %s, %s, %s FROM {{}}",
                    tail,
                )
                if copied != staged:
                    raise RuntimeError(f"staged households: {copied} copied, {staged} expected")
            del rows, new
            # Changed households.
            upd = []
            for r in plan.results:
                for pk, number, values, _region, _detail in r.hh_changed_rows:
                    pk_of[number] = pk
                    region_of[number] = values[_H_REGION]
                    upd.append((pk, *values, stamp))
            bulkdb.update_rows(Household, [*H_ALL, "updated_at"], upd, adapt=False)
            del upd
            lap("write_households")
            self.progress(half + (self.total - half) // 4, self.total, "正在写入成员")

            # Members: heads that stop being heads go first (one head per household holds at every step).
            for demoted in (True, False):
                upd = [
                    (pk, pk_of[number], *values, stamp)
                    for r in plan.results
                    for pk, number, values, stepping_down in r.m_changed_rows
                    if stepping_down is demoted
                ]
                bulkdb.update_rows(
                    Member, ["household", *M_ID_FIELDS, *M_FIELDS, "updated_at"], upd, adapt=False
                )
            m_cols = [
                "household",
                "household_region",
                *M_ID_FIELDS,
                *M_FIELDS,
                "status",
                "joined_reason",
                "joined_date",
                "left_reason",
                "left_date",
                "created_at",
                "updated_at",
            ]
            tail = ("active", "", None, "", None, stamp, stamp)
            rows = [
                (pk_of[number], region_of[number], *values, *tail)
                for r in plan.results
                for number, values in r.m_new_rows
            ]
            lap("prepare_members")
            self.progress(half + (self.total - half) // 2, self.total, "正在写入成员")
            staged = sum(r.n_m_new for r in plan.results if r.staged)
            with (
                bulkdb.indexes_deferred(Member, len(rows) + staged) as bulk,
                # Every row holds its household's village already (joined from the household when staged).
                bulkdb.sqlite_triggers_paused(Member, [REGION_TRIGGER], when=bulk),
            ):
                bulkdb.insert_rows(Member, m_cols, rows, adapt=False)
                # Staged members find their household by 户编号 (new households got their ids just above).
                width = len(M_ID_FIELDS) + len(M_FIELDS)
                cols = ", ".join(qn(c) for c in bulkdb.columns_of(Member, m_cols))
                picks = ", ".join(f"s.c{i}" for i in range(1, 1 + width))
                copied = self.copy_staged(
                    schemas,
                    "m",
                    f"INSERT INTO {qn(Member._meta.db_table)} ({cols}) SELECT h.id, h.region_id, {picks}, "
                    f"%s, %s, %s, %s, %s, %s, %s FROM {{}} s JOIN main.{qn(Household._meta.db_table)} h "
                    "ON h.number = s.c0",
                    list(tail),
                )
                if copied != staged:
                    raise RuntimeError(f"staged members: {copied} copied, {staged} expected")
            del rows
            lap("write_members")
            self.write_audit(plan, event, now)
        lap("audit_and_commit")
        if plan.hh_new + plan.hh_changed + plan.m_new + plan.m_changed >= ANALYZE_AT:
            # A large load changes what the planner must know: without statistics SQLite plans the list 20–200×
            # slower (a county search page 1.3 s instead of 2 ms), and PostgreSQL's autovacuum may lag.
            self.progress(self.total - 1, self.total, "正在更新统计信息")
            bulkdb.analyze(Household, Member)
            lap("analyze")

    @staticmethod
    def copy_staged(schemas, table: str, sql: str, params: list) -> int:
        """Run ``sql`` (an ``INSERT … SELECT … FROM {}``) once per attached staging file holding ``table``; the
        number of rows inserted."""
        copied = 0
        with connection.cursor() as cursor:
            for schema, tables in schemas:
                if table in tables:
                    cursor.execute(sql.format(f"{schema}.{table}"), params)
                    copied += cursor.rowcount
        return copied

    def write_audit(self, plan: _Merged, first: AuditEvent, now) -> None:
        """One ``household.updated`` event per changed existing household, chained after the summary event (whose
        lock on the chain is held by this transaction)."""
        prev = first.hash
        events = []
        for r in plan.results:
            for pk, number, _values, region, (before, after) in r.hh_changed_rows:
                event = AuditEvent(
                    at=now,
                    actor=first.actor,
                    actor_username=first.actor_username,
                    actor_role=first.actor_role,
                    region_code=region,
                    action="household.updated",
                    object_type="registry.household",
                    object_id=str(pk),
                    object_label=f"户 {number}",
                    before=audit.mask(before),
                    after=audit.mask(after),
                    note=f"导入 {self.name}"[:200],
                    request_id=first.request_id,
                    ip=first.ip,
                    prev_hash=prev,
                )
                event.hash = audit.compute_hash(event)
                prev = event.hash
                events.append(event)
        AuditEvent.objects.bulk_create(events, batch_size=1000)


_ID_ELSEWHERE = "该证件号码已登记在系统中的其他农户（同一人只能属于一户，迁入请先办理转户）"
_ACTIVE: tuple | None = None  # (importer, slices) while forked workers run


def _slice_worker(i: int) -> _SliceResult:
    importer, slices = _ACTIVE
    importer.progress = _no_progress  # a progress callback may write to the database: never from a child
    return importer.process_slice(*slices[i])


def _no_progress(done: int, total: int, message: str = "") -> None:
    return None


def _workers_for(rows: int) -> int:
    """Worker processes for a file of ``rows`` rows: 1 for anything small (forking costs more than it saves) and
    where fork is unavailable; otherwise the processors (FANGFAN_IMPORT_WORKERS overrides)."""
    wanted = os.environ.get("FANGFAN_IMPORT_WORKERS", "").strip()
    default = min(os.cpu_count() or 1, 8) if rows >= 60_000 else 1
    count = int(wanted) if wanted.isdigit() else default
    if count > 1 and "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, count)


def _size(table: _Table | None) -> int:
    return table.count if table is not None else 0


def _subtable(table: _Table | None, picks: list[int]) -> _Table | None:
    if table is None:
        return None
    if len(picks) == table.count:
        return table
    if table.parsed is None:  # a worker splits its own rows (``_Lines``)
        parsed, lines = None, table.lines.pick(picks)
    else:
        parsed, lines = [table.parsed[k] for k in picks], None
    return _Table(
        file=table.file,
        sheet=table.sheet,
        headers=table.headers,
        parsed=parsed,
        kind=table.kind,
        index=table.index,
        ignored=table.ignored,
        lines=lines,
    )


def _preview(result: _SliceResult) -> list[tuple[str, str, str]]:
    """The slice's first households by 户编号 that the import creates or changes, each with what changes in words:
    the changed fields' names and the members added or updated (no values)."""
    members_new: dict[str, int] = {}
    members_changed: dict[str, int] = {}
    for number, *_rest in result.m_new:
        members_new[number] = members_new.get(number, 0) + 1
    for number, *_rest in result.m_changed:
        members_changed[number] = members_changed.get(number, 0) + 1

    def members(number: str) -> list[str]:
        parts = []
        if members_new.get(number):
            parts.append(f"新增成员 {members_new[number]} 人")
        if members_changed.get(number):
            parts.append(f"更新成员 {members_changed[number]} 人")
        return parts

    picked = []
    for number, _values in heapq.nsmallest(PREVIEW_HOUSEHOLDS, result.hh_new, key=lambda h: h[0]):
        picked.append((number, "新增", "、".join(["新建农户档案", *members(number)])))
    for number, _old, _values, detail in heapq.nsmallest(
        PREVIEW_HOUSEHOLDS, result.hh_changed, key=lambda h: h[0]
    ):
        fields = [k for k in detail[1] if k != "成员"]
        picked.append((number, "更新", "、".join([*fields, *members(number)])))
    return heapq.nsmallest(PREVIEW_HOUSEHOLDS, picked)


def _audit_detail(old: dict, values: dict, changed: set, member_changes: list) -> tuple[dict, dict]:
    keys = sorted(changed, key=H_ALL.index)[:AUDIT_DETAIL_KEYS]
    before = {H_LABEL[k]: _audit_value(old[k]) for k in keys}
    after = {H_LABEL[k]: _audit_value(values[k]) for k in keys}
    if member_changes:
        added = [c[1][1] for c in member_changes if c[0] == "new"]
        updated = [c[1][1] for c in member_changes if c[0] == "changed"]
        after["成员"] = {
            "新增": len(added),
            "更新": len(updated),
            "证件号码": [mask_id(v[1]) for v in (added + updated)[:AUDIT_DETAIL_MEMBERS]],
        }
    return before, after


@dataclass
class _SliceResult:
    """What one slice found and, unless a dry run, the rows it prepared for the database."""

    problems: list = field(default_factory=list)
    cell_problems: bool = False  # the problems are wrong cells (the slice stopped there)
    ids: list = field(default_factory=list)  # (id18, row) of every valid member row
    unknown: list = field(default_factory=list)  # (index, row, own household pk, shown) to look up
    hh_new: list = field(default_factory=list)
    hh_changed: list = field(default_factory=list)
    m_new: list = field(default_factory=list)
    m_changed: list = field(default_factory=list)
    hh_unchanged: int = 0
    m_unchanged: int = 0
    n_hh_new: int = 0
    n_hh_changed: int = 0
    n_m_new: int = 0
    n_m_changed: int = 0
    hh_new_rows: list = field(default_factory=list)
    hh_changed_rows: list = field(default_factory=list)
    m_new_rows: list = field(default_factory=list)
    m_changed_rows: list = field(default_factory=list)
    staged: str = ""  # the staging file holding this slice's new rows (SQLite), instead of the two lists
    preview: list = field(default_factory=list)  # (number, kind, what) of its first households by 户编号

    def drop_plan(self) -> None:
        """Keep the counts and the prepared rows; let go of the planning structures (they would be pickled)."""
        self.n_hh_new, self.n_hh_changed = len(self.hh_new), len(self.hh_changed)
        self.n_m_new, self.n_m_changed = len(self.m_new), len(self.m_changed)
        self.hh_new, self.hh_changed, self.m_new, self.m_changed = [], [], [], []

    def clear_rows(self) -> None:
        self.drop_plan()
        self.hh_new_rows, self.hh_changed_rows, self.m_new_rows, self.m_changed_rows = [], [], [], []


@dataclass
class _Merged:
    results: list = field(default_factory=list)
    preview: list = field(default_factory=list)
    hh_new: int = 0
    hh_changed: int = 0
    hh_unchanged: int = 0
    m_new: int = 0
    m_changed: int = 0
    m_unchanged: int = 0


_F = M_POS
_HEAD = M_POS["is_head"]
_M_PHONE = M_POS["phone"]
_FACT_POSITIONS = itemgetter(
    _F["school_status"],
    _F["not_in_school_reason"],
    _F["serious_illness"],
    _F["disabled"],
    _F["labour_skill"],
    _F["resident_medical"],
    _F["employee_medical"],
    _F["is_head"],
)
_M_OPTIONAL_HEADER = {
    "education": "文化程度",
    "school_status": "在校生状况",
    "not_in_school_reason": "义务教育阶段未上学原因",
    "health": "健康状况",
    "disability_category": "残疾类别",
    "disability_grade": "残疾等级",
    "labour_skill": "劳动技能",
    "migrant_months": "务工时间（月）",
    "migrant_place": "务工地",
    "resident_medical": "参加城乡居民基本医疗保险",
    "employee_medical": "参加职工基本医疗保险",
    "resident_pension": "参加城乡居民基本养老保险",
    "dibao": "享受低保",
    "tekun": "特困供养",
    "phone": "联系电话",
}


class _Facts(NamedTuple):
    """What ``derive`` reads of a member: the attributes of ``derive.MemberFacts``, built several times faster
    (a frozen dataclass sets each field through ``object.__setattr__``). test_import_speedups checks the two agree."""

    birth_date: date
    school_status: str
    not_in_school_reason: str
    serious_illness: bool
    disabled: bool
    labour_skill: str
    resident_medical: bool | None
    employee_medical: bool | None
    is_head: bool
    name: str = ""  # head_name/head_initials are set by the importer (cached initials)


def _facts(values, birth: date) -> _Facts:
    school, reason, serious, disabled, labour, resident, employee, _head = _FACT_POSITIONS(values)
    return _Facts(
        birth,
        school or "",
        reason or "",
        bool(serious),
        bool(disabled),
        labour or "",
        resident,
        employee,
        # is_head False: derive only uses it to find the head's name and would run pypinyin on it (~12 µs even
        # for ""); the importer sets head_name and head_initials itself.
        False,
    )


_H_PHONE = H_ALL.index("phone")


_H_REGION = H_ALL.index("region")


def _h_row(values: dict, enc) -> list:
    row = [values[f] for f in H_ALL]
    if row[_H_PHONE]:
        row[_H_PHONE] = enc(row[_H_PHONE])
    return row


def _id_row(id_values: tuple, index: str, enc) -> tuple:
    stored, id18, birth, sex, _card = id_values
    return (enc(stored), index, mask_id(id18), id18[14:], birth, sex)


def _m_row(final: list, phone_pos: int, enc) -> list:
    row = list(final)
    if row[phone_pos]:
        row[phone_pos] = enc(row[phone_pos])
    return row


def _audit_value(value):
    if isinstance(value, Decimal):
        return str(value)
    return value


def households_import(
    *,
    path: Path | str,
    actor,
    dry_run: bool = False,
    display_name: str | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import the household workbook (DATA-FORMATS §2): an .xlsx with sheets 户信息 and 成员信息, a folder holding
    户信息.csv and 成员信息.csv (or any CSVs whose headers identify them), or one such CSV.

    ``actor`` None is the command-line operator (every region); otherwise every village must lie in the actor's
    jurisdiction. Raises ``ValidationFailed`` listing every problem, with nothing written; a dry run checks the
    same and writes nothing. ``progress(done, total, message)`` is called every few thousand rows.
    """
    if actor is not None and getattr(actor, "role", "") != "system" and not actor.can("household.import"):
        raise ValidationFailed("您的角色无权导入农户信息")
    if actor is not None and actor.jurisdiction_range() is None:
        raise ValidationFailed("您的账号没有所属区划，无法导入")
    importer = _Import(
        path=Path(path), actor=actor, dry_run=dry_run, display_name=display_name, progress=progress
    )
    # Millions of small objects and no reference cycles worth collecting: the cyclic collector would rescan the
    # whole heap again and again (measured: reading and checking take about half the time without it).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return importer.run()
    finally:
        if was_enabled:
            gc.enable()


__all__ = ["ImportSummary", "fast_initials", "households_import"]
