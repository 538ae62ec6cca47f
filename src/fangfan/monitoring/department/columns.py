"""Department files' columns per source (DATA-FORMATS §3), the batch summary, and reading a sheet into checked
rows (``parse_sheet``): every cell parsed, every problem named by row and column, nothing written."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from fangfan.core.cells import CellError, bounded, calendar_date, choice, money, required, text, yes_no
from fangfan.core.errors import DomainError, ValidationFailed
from fangfan.core.filelimits import limits
from fangfan.core.tabular import Problem, Sheet, repeated_headers
from fangfan.registry.idnumber import DISABILITY_CATEGORIES as CARD_CATEGORIES
from fangfan.registry.idnumber import DISABILITY_GRADES as CARD_GRADES
from fangfan.registry.idnumber import IdNumberError, parse_id

from ..choices import Source
from ..models import DepartmentBatch

MATCH_CHUNK = 5000
ANALYZE_ROWS = 5000  # PostgreSQL: a batch at least this large refreshes the records' planner statistics
# The columns written per row, in order (the database's fast path: executemany on SQLite, COPY on PostgreSQL —
# Django's bulk_create spent most of a 20 000-row import building its SQL).
RECORD_FIELDS = [
    "source", "row_number", "id_index", "id_masked", "name", "member", "household", "region_code",
    "name_mismatch", "event_date", "kind", "status", "grade", "amount", "total_amount", "flag", "data",
]  # fmt: skip
ID_HEADER = "证件号码"
NAME_HEADER = "姓名"
ID_ALIASES = ("身份证号码", "身份证号", "公民身份号码", "证件号", "残疾人证号")
REASON_HEADER = "原因"
# Columns a department might add that we do not keep (PIPL: what is not needed is not stored).
DROPPED_HEADERS = frozenset(
    {"联系电话", "手机号码", "手机号", "电话", "银行账号", "银行卡号", "家庭住址", "住址"}
)

UNMATCHED_ROW_HEADER = "原文件行号"  # the row as the department's own file numbers it (the header is row 1)
# The template's example row (row 2) starts its 证件号码 cell with this mark; the importer skips such a row.
EXAMPLE_MARK = "示例"


class AlreadyImported(DomainError):
    """The same content for the same source and region is already a batch: it is not imported twice."""

    def __init__(self, batch: DepartmentBatch):
        when = timezone.localtime(batch.created_at).strftime("%Y-%m-%d %H:%M")
        super().__init__(
            f"该文件已于 {when} 导入（批次 {batch.pk}，{batch.get_source_display()}数据“{batch.file_name}”），"
            "内容相同，未重复导入"
        )
        self.batch = batch


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def rows_hash(rows: list) -> str:
    return hashlib.sha256(
        json.dumps(rows, ensure_ascii=False, sort_keys=True, default=str).encode()
    ).hexdigest()


def department_limits():
    """A department batch's bounds: its own size and rows (settings ``DEPARTMENT_MAX_*``), the rest as any file."""
    return limits(file_bytes=settings.DEPARTMENT_MAX_BYTES, rows=settings.DEPARTMENT_MAX_ROWS + 1)


REASON_UNKNOWN = "系统中无此证件号码（未在防返贫监测系统登记）"
REASON_OUTSIDE = "该人员在本辖区以外登记，不计入本批次，请报送其所在地"
REASON_LATER = "导入时未匹配，该人员现已登记，可重新报送"
REASON_NAME = "姓名与系统登记不一致，请核对"


# --- column specifications -------------------------------------------------------------------------------------


def _required(parse: Callable[[object], Any]) -> Callable[[object], Any]:
    return required(parse, reason="必填，不能为空")


def _enum(values: Iterable[str], aliases: dict[str, str] | None = None) -> Callable[[object], str]:
    return choice(values, aliases=aliases, lead="应为：", squeeze=True)


def _text(max_length: int) -> Callable[[object], str]:
    return bounded(max_length, reason=f"内容过长（最多 {max_length} 字）", controls=False)


def _money(value: object):
    return money(value)


@dataclass(frozen=True)
class Column:
    header: str
    target: str  # a DepartmentRecord field, or "data" (kept under the header in ``data``)
    parse: Callable[[object], Any]
    required: bool = False
    aliases: tuple[str, ...] = ()
    # For the template (``template.department_template``): the header's note, its drop-down values, an example.
    note: str = ""
    choices: tuple[str, ...] = ()
    example: str = ""


DATE_NOTE = "日期，如 2025-03-01"
MONEY_NOTE = "金额（元），最多两位小数"


GRADE_ALIASES = {f"{i}": g for i, g in CARD_GRADES.items()} | {f"{i}级": g for i, g in CARD_GRADES.items()}
DISASTER_KINDS = ["洪涝", "地质", "旱", "生物", "气象", "地震", "其他"]
DISASTER_ALIASES = {
    "洪涝灾害": "洪涝", "洪水": "洪涝", "内涝": "洪涝", "地质灾害": "地质", "滑坡": "地质", "泥石流": "地质",
    "干旱": "旱", "旱灾": "旱", "生物灾害": "生物", "病虫害": "生物", "气象灾害": "气象", "风雹": "气象",
    "台风": "气象", "暴雪": "气象", "雪灾": "气象", "低温冷冻": "气象", "地震灾害": "地震",
}  # fmt: skip
EXCLUSION_KINDS = ["车辆", "房产", "工商登记", "公职人员", "存款"]
EXCLUSION_ALIASES = {"工商": "工商登记", "公职": "公职人员", "财政供养人员": "公职人员", "银行存款": "存款"}

SOURCE_COLUMNS: dict[str, list[Column]] = {
    Source.MEDICAL: [
        Column(
            "结算日期", "event_date", _required(calendar_date), True, note=DATE_NOTE, example="2025-03-01"
        ),
        Column("医疗总费用", "total_amount", _money, note=MONEY_NOTE, example="32000.00"),
        Column(
            "个人自付金额",
            "amount",
            _required(_money),
            True,
            ("个人自付",),
            note=MONEY_NOTE + "；政策范围外的自付也计入",
            example="8000.00",
        ),
    ],
    Source.CIVIL: [
        Column(
            "救助类型",
            "kind",
            _required(_enum(["低保", "特困", "孤儿", "临时救助"], {"特困供养": "特困"})),
            True,
            choices=("低保", "特困", "孤儿", "临时救助"),
            example="低保",
        ),
        Column(
            "状态",
            "status",
            _required(_enum(["新增", "在保", "停保"])),
            True,
            choices=("新增", "在保", "停保"),
            example="新增",
        ),
        Column("日期", "event_date", _required(calendar_date), True, note=DATE_NOTE, example="2025-03-01"),
    ],
    Source.DISABILITY: [
        Column(
            "残疾类别",
            "kind",
            _enum(CARD_CATEGORIES.values()),
            note="填 20 位残疾人证号时可留空（由证号得出）",
            choices=tuple(CARD_CATEGORIES.values()),
            example=next(iter(CARD_CATEGORIES.values())),
        ),
        Column(
            "残疾等级",
            "grade",
            _enum(CARD_GRADES.values(), GRADE_ALIASES),
            True,
            note="填 20 位残疾人证号时可留空（由证号得出）",
            choices=tuple(CARD_GRADES.values()),
            example=next(iter(CARD_GRADES.values())),
        ),
        Column("发证日期", "event_date", calendar_date, note=DATE_NOTE, example="2025-03-01"),
    ],
    Source.EDUCATION: [
        Column("学段", "kind", _text(30), note="如 小学、初中、高中、中职、高校", example="初中"),
        Column(
            "状态",
            "status",
            _required(_enum(["在读", "辍学", "失学"])),
            True,
            choices=("在读", "辍学", "失学"),
            example="辍学",
        ),
        Column("日期", "event_date", calendar_date, note=DATE_NOTE, example="2025-03-01"),
    ],
    Source.HOUSING: [
        Column(
            "鉴定等级",
            "grade",
            _required(_enum("ABCD", {f"{g}级": g for g in "ABCD"})),
            True,
            note="房屋安全性鉴定等级",
            choices=("A", "B", "C", "D"),
            example="C",
        ),
        Column(
            "鉴定日期", "event_date", _required(calendar_date), True, note=DATE_NOTE, example="2025-03-01"
        ),
    ],
    Source.WATER: [
        Column("饮水安全", "flag", _required(yes_no), True, choices=("是", "否"), example="否"),
        Column("原因", "data", _text(200), note="不安全时写明原因，最多 200 字", example="水源季节性断供"),
        Column("日期", "event_date", calendar_date, note=DATE_NOTE, example="2025-03-01"),
    ],
    Source.DISASTER: [
        Column(
            "灾害类型",
            "kind",
            _required(_enum(DISASTER_KINDS, DISASTER_ALIASES)),
            True,
            choices=tuple(DISASTER_KINDS),
            example="洪涝",
        ),
        Column(
            "受灾日期", "event_date", _required(calendar_date), True, note=DATE_NOTE, example="2025-03-01"
        ),
        Column("损失金额", "amount", _money, note=MONEY_NOTE, example="15000.00"),
    ],
    Source.EMPLOYMENT: [
        Column(
            "状态",
            "status",
            _required(_enum(["失业", "返乡", "就业"])),
            True,
            choices=("失业", "返乡", "就业"),
            example="失业",
        ),
        Column("日期", "event_date", calendar_date, note=DATE_NOTE, example="2025-03-01"),
    ],
    Source.REGISTRY: [
        Column(
            "事件",
            "kind",
            _required(_enum(["死亡", "出生", "迁出", "迁入"])),
            True,
            choices=("死亡", "出生", "迁出", "迁入"),
            example="迁出",
        ),
        Column("日期", "event_date", _required(calendar_date), True, note=DATE_NOTE, example="2025-03-01"),
    ],
    Source.EXCLUSION: [
        Column(
            "比对类型",
            "kind",
            _required(_enum(EXCLUSION_KINDS, EXCLUSION_ALIASES)),
            True,
            choices=tuple(EXCLUSION_KINDS),
            example="车辆",
        ),
        Column(
            "说明", "data", _text(200), note="比对发现的情况，最多 200 字", example="名下登记小型轿车一辆"
        ),
    ],
}


def source_headers(source: str) -> list[str]:
    """The headers of a source's template, in order (证件号码 and 姓名 first)."""
    return [ID_HEADER, NAME_HEADER, *(c.header for c in SOURCE_COLUMNS[source])]


def source_label(source: str) -> str:
    return Source(source).label


# --- the summary ------------------------------------------------------------------------------------------------


@dataclass
class BatchSummary:
    """What an import did, as the CLI, the web page and the API report it."""

    source: str
    file_name: str
    rows: int = 0
    matched: int = 0
    unmatched: int = 0
    outside: int = 0  # of the unmatched: registered outside the batch's region
    name_mismatches: int = 0
    warnings: int = 0
    batch_id: int | None = None
    screening_run_id: int | None = None
    dry_run: bool = False
    unmatched_rows: list[int] = field(default_factory=list, repr=False)  # row numbers (dry run report)

    @property
    def source_label(self) -> str:
        return source_label(self.source)

    @property
    def unmatched_url(self) -> str:
        return f"/department/batches/{self.batch_id}/unmatched/" if self.batch_id else ""

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("unmatched_rows")
        data["source_label"] = self.source_label
        data["unmatched_url"] = self.unmatched_url
        return data


# --- parsing ----------------------------------------------------------------------------------------------------


@dataclass
class ParsedRow:
    row_number: int
    id18: str
    name: str
    fields: dict[str, Any]
    data: dict[str, str]


def _header_map(sheet: Sheet, source: str) -> tuple[dict[str, Column | str], list[Problem]]:
    """header in the file → Column (or "id"/"name"/"extra"); problems for missing required headers."""
    columns = SOURCE_COLUMNS[source]
    known: dict[str, Column | str] = {ID_HEADER: "id", NAME_HEADER: "name"}
    known.update({a: "id" for a in ID_ALIASES})
    for column in columns:
        known[column.header] = column
        known.update({a: column for a in column.aliases})
    mapping: dict[str, Column | str] = {}
    for header in sheet.headers:
        if not header:
            continue
        mapping[header] = known.get(header, "dropped" if header in DROPPED_HEADERS else "extra")
    present = set(mapping.values())
    field_of = {"id": ID_HEADER, "name": NAME_HEADER}

    def field_name(header: str) -> str:
        target = mapping[header]
        return target.header if isinstance(target, Column) else field_of.get(target, header)

    problems = repeated_headers(sheet, field_name)
    if "id" not in present:
        problems.append(Problem(sheet.file, sheet.name, 1, ID_HEADER, "", "缺少必需的列（表头）"))
    for column in columns:
        if column.required and column not in present:
            problems.append(Problem(sheet.file, sheet.name, 1, column.header, "", "缺少必需的列（表头）"))
    return mapping, problems


def _id_cell(value: object) -> str:
    if isinstance(value, (bool, int, float, Decimal)):
        raise CellError(
            "证件号码应为文本：该单元格是数字，Excel 会把 18 位号码变成科学计数法并丢失末几位，"
            "请把该列设为“文本”格式后重新录入"
        )
    return text(value)


def _is_example(cells: dict[str, object], id_headers: list[str]) -> bool:
    """The template's example row: its 证件号码 cell starts with ``EXAMPLE_MARK`` (no ID number does)."""
    return any(
        isinstance(cells.get(h), str) and str(cells.get(h)).strip().startswith(EXAMPLE_MARK)
        for h in id_headers
    )


def _display(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)[:60]


def parse_sheet(sheet: Sheet, source: str) -> list[ParsedRow]:
    """Validate every row; raise ``ValidationFailed`` with every problem (nothing is written)."""
    mapping, problems = _header_map(sheet, source)
    if problems:
        raise ValidationFailed(f"{sheet.file}：表头不符合{source_label(source)}数据格式", problems)
    id_headers = [h for h, target in mapping.items() if target == "id"]
    rows = [(n, cells) for n, cells in sheet.rows if not _is_example(cells, id_headers)]
    if not rows:
        raise ValidationFailed(
            f"{sheet.file}：文件中没有数据行"
            + ("（只有模板的示例行，请在示例行下面填写数据）" if sheet.rows else "")
        )
    parsed: list[ParsedRow] = []
    for number, cells in rows:
        row_problems: list[Problem] = []
        fields: dict[str, Any] = {}
        data: dict[str, str] = {}
        id18 = name = ""
        card = None
        for header, target in mapping.items():
            value = cells.get(header)
            try:
                if target == "id":
                    raw = _id_cell(value)
                    if not raw:
                        raise CellError("必填，不能为空")
                    try:
                        info = parse_id(raw)
                    except IdNumberError as exc:
                        raise CellError(f"证件号码无效：{exc}") from None
                    id18 = info.id18
                    if info.is_disability_card:
                        card = (info.disability_category_label, info.disability_grade_label)
                elif target == "name":
                    name = _text(50)(value)
                elif target == "extra":
                    extra = text(value)
                    if extra:
                        data[header] = extra[:200]
                elif target == "dropped":
                    continue
                else:
                    assert isinstance(target, Column)
                    if target.required and (value is None or text(value) == ""):
                        raise CellError("必填，不能为空")
                    parsed_value = target.parse(value)
                    if target.target == "data":
                        if parsed_value:
                            data[target.header] = parsed_value
                    else:
                        fields[target.target] = parsed_value
            except CellError as exc:
                column = ID_HEADER if target == "id" else header
                row_problems.append(
                    Problem(sheet.file, sheet.name, number, column, _display(value), str(exc))
                )
        if source == Source.DISABILITY and card:
            # A 20-character 残疾人证号 carries category and grade: fill them when the columns are blank.
            fields["kind"] = fields.get("kind") or card[0] or ""
            fields["grade"] = fields.get("grade") or card[1] or ""
        if source == Source.DISABILITY and not fields.get("grade") and not row_problems:
            row_problems.append(Problem(sheet.file, sheet.name, number, "残疾等级", "", "必填，不能为空"))
        if row_problems:
            problems.extend(row_problems)
            continue
        for key in ("kind", "status", "grade"):
            fields[key] = fields.get(key) or ""
        parsed.append(ParsedRow(number, id18, name, fields, data))
    if problems:
        raise ValidationFailed(
            f"{sheet.file}：共 {len(problems)} 处错误，未导入任何数据，请改正后重新导入", problems
        )
    return parsed


def pick_sheet(sheets: list[Sheet], source: str) -> Sheet:
    """The first sheet carrying an ID column (a workbook may have an explanation sheet in front)."""
    for sheet in sheets:
        if any(h == ID_HEADER or h in ID_ALIASES for h in sheet.headers):
            return sheet
    non_empty = [s for s in sheets if s.headers]
    if not non_empty:
        name = sheets[0].file if sheets else "文件"
        raise ValidationFailed(f"{name}：文件是空的，未导入任何数据")
    return non_empty[0]


def sheet_from_rows(rows: list[dict], *, file_name: str) -> Sheet:
    """A sheet from JSON rows (the API): keys are the Chinese headers; row numbers count from 1."""
    if not isinstance(rows, list):
        raise ValidationFailed("rows 应为数组")
    headers: list[str] = []
    seen = set()
    body = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise ValidationFailed(f"第{number}条：应为对象（列名: 值）")
        cleaned = {str(k).replace("\u3000", " ").strip(): v for k, v in row.items()}
        for key in cleaned:
            if key not in seen:
                seen.add(key)
                headers.append(key)
        body.append((number, cleaned))
    return Sheet(file=file_name, name="", headers=headers, rows=body)
