"""Department data in (DATA-FORMATS §3): one file per batch from 医保, 民政, 残联, 教育, 住建, 水利, 应急, 人社, 公安 or
the exclusion checks (车辆/房产/工商/公职/存款), validated all-or-nothing, matched to members by the ID blind index,
kept whole — a row that matches nobody is stored (member NULL), counted as 未匹配 and can be downloaded back by the
department, never dropped — and followed by an incremental screening of the batch's rows.

Matching is set-based: the blind index of every row is computed once, the members are fetched with one ``IN``
query per chunk of 5 000 indexes (measured faster than inserting first and joining in an UPDATE, see
docs/benchmarks.md), and the records are written with ``bulk_create``.

Jurisdiction: a department user imports only its own source; a row counts only for households inside the
batch's region (the uploader's jurisdiction, or the API token's region) — a row matching a member registered
elsewhere is 未匹配 for this batch and reported as such.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from fangfan.core import audit
from fangfan.core.cells import CellError, bounded, calendar_date, choice, money, required, text, yes_no
from fangfan.core.errors import DomainError, ValidationFailed
from fangfan.core.filelimits import limits
from fangfan.core.masking import mask_id
from fangfan.core.tabular import Problem, Sheet, read_tables, repeated_headers
from fangfan.core.xlsx import write_xlsx
from fangfan.regions.codes import code_range
from fangfan.regions.models import Region
from fangfan.registry.bulkdb import insert_rows
from fangfan.registry.idnumber import DISABILITY_CATEGORIES as CARD_CATEGORIES
from fangfan.registry.idnumber import DISABILITY_GRADES as CARD_GRADES
from fangfan.registry.idnumber import IdNumberError, parse_id
from fangfan.registry.models import Member
from fangfan.registry.services import elsewhere_shown_record, id_index

from .choices import Source
from .models import DepartmentBatch, DepartmentRecord

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
        Column("结算日期", "event_date", _required(calendar_date), True),
        Column("医疗总费用", "total_amount", _money),
        Column("个人自付金额", "amount", _required(_money), True, ("个人自付",)),
    ],
    Source.CIVIL: [
        Column(
            "救助类型",
            "kind",
            _required(_enum(["低保", "特困", "孤儿", "临时救助"], {"特困供养": "特困"})),
            True,
        ),
        Column("状态", "status", _required(_enum(["新增", "在保", "停保"])), True),
        Column("日期", "event_date", _required(calendar_date), True),
    ],
    Source.DISABILITY: [
        Column("残疾类别", "kind", _enum(CARD_CATEGORIES.values())),
        Column("残疾等级", "grade", _enum(CARD_GRADES.values(), GRADE_ALIASES), True),
        Column("发证日期", "event_date", calendar_date),
    ],
    Source.EDUCATION: [
        Column("学段", "kind", _text(30)),
        Column("状态", "status", _required(_enum(["在读", "辍学", "失学"])), True),
        Column("日期", "event_date", calendar_date),
    ],
    Source.HOUSING: [
        Column("鉴定等级", "grade", _required(_enum("ABCD", {f"{g}级": g for g in "ABCD"})), True),
        Column("鉴定日期", "event_date", _required(calendar_date), True),
    ],
    Source.WATER: [
        Column("饮水安全", "flag", _required(yes_no), True),
        Column("原因", "data", _text(200)),
        Column("日期", "event_date", calendar_date),
    ],
    Source.DISASTER: [
        Column("灾害类型", "kind", _required(_enum(DISASTER_KINDS, DISASTER_ALIASES)), True),
        Column("受灾日期", "event_date", _required(calendar_date), True),
        Column("损失金额", "amount", _money),
    ],
    Source.EMPLOYMENT: [
        Column("状态", "status", _required(_enum(["失业", "返乡", "就业"])), True),
        Column("日期", "event_date", calendar_date),
    ],
    Source.REGISTRY: [
        Column("事件", "kind", _required(_enum(["死亡", "出生", "迁出", "迁入"])), True),
        Column("日期", "event_date", _required(calendar_date), True),
    ],
    Source.EXCLUSION: [
        Column("比对类型", "kind", _required(_enum(EXCLUSION_KINDS, EXCLUSION_ALIASES)), True),
        Column("说明", "data", _text(200)),
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


def _display(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)[:60]


def parse_sheet(sheet: Sheet, source: str) -> list[ParsedRow]:
    """Validate every row; raise ``ValidationFailed`` with every problem (nothing is written)."""
    mapping, problems = _header_map(sheet, source)
    if problems:
        raise ValidationFailed(f"{sheet.file}：表头不符合{source_label(source)}数据格式", problems)
    if not sheet.rows:
        raise ValidationFailed(f"{sheet.file}：文件中没有数据行")
    parsed: list[ParsedRow] = []
    for number, cells in sheet.rows:
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


def _pick_sheet(sheets: list[Sheet], source: str) -> Sheet:
    """The first sheet carrying an ID column (a workbook may have an explanation sheet in front)."""
    for sheet in sheets:
        if any(h == ID_HEADER or h in ID_ALIASES for h in sheet.headers):
            return sheet
    non_empty = [s for s in sheets if s.headers]
    if not non_empty:
        raise ValidationFailed("文件是空的")
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


# --- matching ---------------------------------------------------------------------------------------------------


def _normal_name(name: str) -> str:
    return re.sub(r"[\s·•・．.]", "", name or "")


def match_members(indexes: Iterable[str]) -> dict[str, tuple[int, int, str, str]]:
    """id_index → (member id, household id, household region, registered name), one ``IN`` query per chunk."""
    unique = list(dict.fromkeys(indexes))
    found: dict[str, tuple[int, int, str, str]] = {}
    for start in range(0, len(unique), MATCH_CHUNK):
        chunk = unique[start : start + MATCH_CHUNK]
        for idx, member_id, household_id, region, name in Member.objects.filter(
            id_index__in=chunk
        ).values_list("id_index", "id", "household_id", "household__region_id", "name"):
            found[idx] = (member_id, household_id, region, name)
    return found


# --- the service ------------------------------------------------------------------------------------------------


def _root_region() -> Region:
    roots = list(Region.objects.filter(parent__isnull=True)[:2])
    if len(roots) != 1:
        raise DomainError("请用 --user 指定以哪个账号（及其辖区）导入，或先导入区划")
    return roots[0]


def _batch_region(actor, source: str, region_code: str | None) -> Region:
    """Check who may import what, and the region the batch counts for."""
    if source not in SOURCE_COLUMNS:
        raise DomainError(f"未知的数据来源：{source}（可选：{'、'.join(SOURCE_COLUMNS)}）")
    trusted = actor is None or getattr(actor, "role", "") == "system"
    if not trusted:
        if actor.role == "department" and actor.department != source:
            raise DomainError(
                f"部门用户只能报送本部门（{actor.get_department_display()}）的数据，不能报送{source_label(source)}数据"
            )
        if not actor.can("department.import"):
            raise DomainError("您的角色无权导入部门数据")
        span = actor.jurisdiction_range()
        region_code = region_code or actor.region_id
        if span is None or not region_code or not (span[0] <= region_code < span[1]):
            raise DomainError("只能为本辖区导入部门数据")
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        if region is None:
            raise DomainError(f"区划不存在：{region_code}")
        return region
    return _root_region()


def _import(
    *,
    sheet: Sheet,
    source: str,
    actor,
    dry_run: bool,
    channel: str,
    file_name: str,
    region_code: str | None,
    note: str = "",
    content_hash: str = "",
) -> BatchSummary:
    region = _batch_region(actor, source, region_code)
    if content_hash:
        done = DepartmentBatch.objects.filter(source=source, region=region, content_hash=content_hash).first()
        if done is not None:
            raise AlreadyImported(done)
    parsed = parse_sheet(sheet, source)
    lo, hi = code_range(region.code)
    indexes = [id_index(p.id18) for p in parsed]
    found = match_members(indexes)

    summary = BatchSummary(source=source, file_name=file_name, rows=len(parsed), dry_run=dry_run)
    records: list[tuple] = []
    for row, idx in zip(parsed, indexes, strict=True):
        hit = found.get(idx)
        member_id = household_id = None
        region_of_row = region.code
        mismatch = False
        if hit is not None and lo <= hit[2] < hi:
            member_id, household_id, region_of_row, registered = hit
            mismatch = bool(row.name) and _normal_name(row.name) != _normal_name(registered)
            summary.matched += 1
            summary.name_mismatches += mismatch
        else:
            summary.unmatched += 1
            summary.outside += hit is not None
            summary.unmatched_rows.append(row.row_number)
        if not dry_run:
            fields = row.fields
            records.append(
                (
                    source,
                    row.row_number,
                    idx,
                    mask_id(row.id18),
                    row.name,
                    member_id,
                    household_id,
                    region_of_row,
                    mismatch,
                    fields.get("event_date"),
                    fields["kind"],
                    fields["status"],
                    fields["grade"],
                    fields.get("amount"),
                    fields.get("total_amount"),
                    fields.get("flag"),
                    json.dumps(row.data, ensure_ascii=False),
                )
            )
    if dry_run:
        # How many people are registered outside the region is a disclosure (the import's own event carries it).
        elsewhere_shown_record(
            actor=actor, count=summary.outside, via="department_import", dry_run=True, region_code=region.code
        )
        return summary

    try:
        batch = _write_batch(
            source=source, region=region, actor=actor, channel=channel, file_name=file_name, note=note,
            summary=summary, records=records, content_hash=content_hash,
        )  # fmt: skip
    except IntegrityError:  # the same content posted twice at once: the other post made the batch
        done = DepartmentBatch.objects.filter(source=source, region=region, content_hash=content_hash).first()
        if content_hash and done is not None:
            raise AlreadyImported(done) from None
        raise
    summary.batch_id = batch.pk

    from .screening import screening_run  # the screening reads this module's batches; imported late

    run = screening_run(actor=actor, batch=batch)
    summary.warnings = run.new_warnings
    summary.screening_run_id = run.pk
    return summary


def _write_batch(
    *, source, region, actor, channel, file_name, note, summary, records, content_hash
) -> DepartmentBatch:
    with transaction.atomic():
        batch = DepartmentBatch.objects.create(
            source=source,
            file_name=file_name[:200],
            channel=channel,
            region=region,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
            rows=summary.rows,
            matched=summary.matched,
            unmatched=summary.unmatched,
            name_mismatches=summary.name_mismatches,
            state=DepartmentBatch.State.IMPORTED,
            content_hash=content_hash,
        )
        insert_rows(DepartmentRecord, ["batch", *RECORD_FIELDS], [(batch.pk, *record) for record in records])
        if len(records) >= ANALYZE_ROWS and connection.vendor == "postgresql":
            # A large new batch: PostgreSQL would otherwise plan "batch_id = <new>" as one row (nested loops
            # over whole tables in anything that joins the batch's rows before autovacuum catches up).
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ANALYZE {DepartmentRecord._meta.db_table} (batch_id, source, member_id, household_id)"
                )
        audit.record(
            actor,
            "department.imported",
            batch,
            after={
                "source": source,
                "file_name": file_name,
                "channel": channel,
                "rows": summary.rows,
                "matched": summary.matched,
                "unmatched": summary.unmatched,
                "outside": summary.outside,
                "name_mismatches": summary.name_mismatches,
            },
            note=note,
        )
    return batch


def department_import(
    *,
    source: str,
    path: Path | str,
    actor,
    dry_run: bool = False,
    channel: str = "cli",
    display_name: str | None = None,
    region_code: str | None = None,
    note: str = "",
) -> BatchSummary:
    """Import one department file (.xlsx or .csv) as a batch: validate every row (all-or-nothing), match to
    members, keep unmatched rows, audit ``department.imported``, then screen the batch's rows with the rules of
    its source. ``region_code`` is the region the batch counts for (default: the actor's; the API passes the
    token's). A dry run validates and counts, and writes nothing. A file larger than ``department_limits()`` is
    refused before it is read; one whose content is already a batch of this source and region raises
    ``AlreadyImported``."""
    path = Path(path)
    name = display_name or path.name
    if source not in SOURCE_COLUMNS:
        raise DomainError(f"未知的数据来源：{source}（可选：{'、'.join(SOURCE_COLUMNS)}）")
    bound = department_limits()
    if path.stat().st_size > bound.file_bytes:
        raise ValidationFailed(
            f"文件过大：{name} 超过 {bound.file_bytes // (1024 * 1024)} MB，未导入任何数据；请按月份或乡镇拆分后再报送"
        )
    sheet = _pick_sheet(read_tables(path, display_name=name, bound=bound), source)
    return _import(
        sheet=sheet,
        source=source,
        actor=actor,
        dry_run=dry_run,
        channel=channel,
        file_name=name,
        region_code=region_code,
        note=note,
        content_hash=file_hash(path),
    )


def department_import_rows(
    *,
    source: str,
    rows: list[dict],
    file_name: str,
    actor,
    dry_run: bool = False,
    channel: str = "api",
    region_code: str | None = None,
    note: str = "",
) -> BatchSummary:
    """The same import from rows already parsed (the API's JSON body), keyed by the Chinese column names."""
    if source not in SOURCE_COLUMNS:
        raise DomainError(f"未知的数据来源：{source}（可选：{'、'.join(SOURCE_COLUMNS)}）")
    if isinstance(rows, list) and len(rows) > settings.DEPARTMENT_MAX_ROWS:
        raise ValidationFailed(
            f"一次最多报送 {settings.DEPARTMENT_MAX_ROWS} 行（本次 {len(rows)} 行），未导入任何数据；请分批报送"
        )
    sheet = sheet_from_rows(rows, file_name=file_name or "接口报送")
    return _import(
        sheet=sheet,
        source=source,
        actor=actor,
        dry_run=dry_run,
        channel=channel,
        file_name=file_name or "接口报送",
        region_code=region_code,
        note=note,
        content_hash=rows_hash(rows),
    )


# --- unmatched rows back to the department ----------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def unmatched_headers(batch: DepartmentBatch, extra: list[str]) -> list[str]:
    return [
        UNMATCHED_ROW_HEADER,
        "证件号码（脱敏）",
        NAME_HEADER,
        *(c.header for c in SOURCE_COLUMNS[batch.source]),
        *extra,
        REASON_HEADER,
    ]


def unmatched_rows(batch: DepartmentBatch, *, limit: int | None = None) -> Iterator[dict]:
    """The rows of a batch the department should look at again: those that matched nobody in the batch's region,
    and those whose name disagrees with the registry — each with its reason (IDs masked)."""
    lo, hi = code_range(batch.region_id)
    qs = batch.records.filter(member__isnull=True) | batch.records.filter(name_mismatch=True)
    qs = qs.order_by("row_number", "id")
    if limit is not None:
        qs = qs[:limit]
    columns = SOURCE_COLUMNS[batch.source]
    chunk: list[DepartmentRecord] = []

    def flush() -> Iterator[dict]:
        missing = [r.id_index for r in chunk if r.member_id is None]
        now = match_members(missing) if missing else {}
        for record in chunk:
            if record.member_id is not None:
                reason = REASON_NAME
            else:
                hit = now.get(record.id_index)
                reason = (
                    REASON_UNKNOWN if hit is None else (REASON_LATER if lo <= hit[2] < hi else REASON_OUTSIDE)
                )
            values = {}
            for column in columns:
                if column.target == "data":
                    values[column.header] = record.data.get(column.header, "")
                else:
                    values[column.header] = _cell(getattr(record, column.target))
            known = {c.header for c in columns}
            extra = {k: v for k, v in record.data.items() if k not in known}
            yield {
                "row_number": record.row_number,
                "id_masked": record.id_masked,
                "name": record.name,
                "columns": values,
                "extra": extra,
                "reason": reason,
            }
        chunk.clear()

    for record in qs.iterator(chunk_size=MATCH_CHUNK):
        chunk.append(record)
        if len(chunk) >= MATCH_CHUNK:
            yield from flush()
    yield from flush()


def unmatched_export(*, batch: DepartmentBatch, actor, target: str | IO[bytes]) -> int:
    """Write a batch's unmatched and name-mismatched rows to .xlsx: the department's columns plus 原因."""
    rows = list(unmatched_rows(batch))
    extra = sorted({k for row in rows for k in row["extra"]})
    headers = unmatched_headers(batch, extra)
    columns = [c.header for c in SOURCE_COLUMNS[batch.source]]

    def values():
        for row in rows:
            yield [
                row["row_number"],
                row["id_masked"],
                row["name"],
                *(row["columns"].get(h, "") for h in columns),
                *(row["extra"].get(h, "") for h in extra),
                row["reason"],
            ]

    count = write_xlsx(target, sheet="未匹配数据", headers=headers, rows=values())
    audit.record(
        actor,
        "department.unmatched_exported",
        batch,
        after={"rows": count, "outside": unmatched_outside(rows)},
    )
    return count


def unmatched_outside(rows: Iterable[dict]) -> int:
    """How many of these unmatched rows say the person is registered outside the batch's region."""
    return sum(row["reason"] == REASON_OUTSIDE for row in rows)


def unmatched_shown_record(
    *, batch: DepartmentBatch, rows: list[dict], actor, via: str, note: str = ""
) -> None:
    """Audit a page or answer that listed a batch's unmatched rows: the count of those registered elsewhere."""
    elsewhere_shown_record(
        actor=actor, count=unmatched_outside(rows), via=via, obj=batch, region_code=batch.region_id, note=note
    )


def template_export(*, source: str, target: str | IO[bytes]) -> None:
    """The empty template of a source (ID column written as text by ``write_xlsx``)."""
    write_xlsx(target, sheet=f"{source_label(source)}数据", headers=source_headers(source), rows=[])
