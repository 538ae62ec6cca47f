"""Exporting households: 农户清单 (DATA-FORMATS §4) as .xlsx (xlsxwriter, constant memory) or .csv (UTF-8 with BOM,
which Excel opens correctly), both through ``core.xlsx`` (no cell read as a formula).

Rows stream from ``values_list(...).iterator(chunk_size=…)``: no model instances, no query per row. Phones are
masked unless the exporter asks to reveal them and may; the optional 成员信息 sheet shows ID numbers masked unless
``reveal_ids`` and the user may see them whole (``household.view_id``). Every export is an audited act.

Registers the ``households`` kind of ``fangfan export``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from fangfan.core import audit
from fangfan.core.errors import DomainError
from fangfan.core.exports import register_export
from fangfan.core.masking import mask_phone
from fangfan.core.xlsx import workbook, write_csv
from fangfan.regions.codes import code_range, validate_code
from fangfan.regions.models import Region

from .choices import Suggestion
from .formats import (
    EXITED_CLASS_LABELS,
    EXPORT_HEADERS,
    EXPORT_SHEET,
    HOUSEHOLD_TYPE_LABELS,
    MEMBER_COLUMNS,
    MEMBER_SHEET,
    MONITORING_STATE_LABELS,
    MONITORING_TYPE_LABELS,
)
from .models import INCOME_FIELDS, INDICATOR_FIELDS, Household, Member
from .services import MEMBER_EDITABLE

if TYPE_CHECKING:
    from fangfan.accounts.models import User

Progress = Callable[[int, int, str], None]
CHUNK = 2000
SUGGESTION_LABELS = dict(Suggestion.choices)

# 农户清单: the stored fields behind EXPORT_HEADERS, in the same order.
HOUSEHOLD_EXPORT_FIELDS = [
    "number",
    "region_id",
    "household_type",
    "exit_year",
    "exited_class",
    "monitoring_type",
    "monitoring_state",
    "identified_month",
    "eliminated_month",
    "grade",
    "phone",
    *INCOME_FIELDS,
    *INDICATOR_FIELDS,
    "head_name",
    "size",
    "net_income",
    "per_capita_income",
    "suggestion",
    "suggestion_reason",
]
# The member sheet: the household key, the name, the masked ID, then every editable field in form order (the
# phone last, as in sheet 成员信息).
MEMBER_EXPORT_FIELDS = [
    "household__number",
    "name",
    "id_masked",
    *(f for f in MEMBER_EDITABLE[1:] if f != "phone"),
    "phone",
]
assert len(HOUSEHOLD_EXPORT_FIELDS) == len(EXPORT_HEADERS)
# After the fixed columns (DATA-FORMATS §4, which other systems read by position): where the household lives, by
# name — a person reading the list knows 东风村, not 341523104201.
PLACE_HEADERS = ["乡镇", "村"]
HOUSEHOLD_LIST_HEADERS = [*EXPORT_HEADERS, *PLACE_HEADERS]
assert len(MEMBER_EXPORT_FIELDS) == len(MEMBER_COLUMNS)
_TEXT_HEADERS = {"户编号", "行政区划代码", "识别监测时间", "风险消除时间", "联系电话", "证件号码"}
_MONEY_HEADERS = {
    "工资性收入",
    "生产经营性收入",
    "生产经营性支出",
    "财产性收入",
    "转移性收入",
    "合规自付支出",
}
_MONEY_HEADERS |= {"家庭纯收入", "年人均纯收入"}


@dataclass
class ExportSummary:
    path: str
    households: int
    members: int


class _PlaceNames:
    """(town name, village name) of a village code, each village looked up once."""

    def __init__(self):
        self.cache: dict[str, tuple[str, str]] = {}

    def __call__(self, village: str) -> tuple[str, str]:
        if village not in self.cache:
            town = village[:9] + "000"
            names = dict(Region.objects.filter(code__in=[village, town]).values_list("code", "name"))
            self.cache[village] = (names.get(town, ""), names.get(village, ""))
        return self.cache[village]


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


def _household_row(values: tuple, reveal_phone: bool) -> list:
    (
        number,
        region,
        htype,
        exit_year,
        exited,
        montype,
        monstate,
        identified,
        eliminated,
        grade,
        phone,
        wage,
        biz_in,
        biz_out,
        prop,
        transfer,
        self_paid,
        food,
        housing,
        water,
        head,
        size,
        net,
        per_capita,
        suggestion,
        reason,
    ) = values
    return [
        number,
        region,
        HOUSEHOLD_TYPE_LABELS.get(htype, htype),
        exit_year if exit_year is not None else "",
        EXITED_CLASS_LABELS.get(exited, exited),
        MONITORING_TYPE_LABELS.get(montype, montype),
        MONITORING_STATE_LABELS.get(monstate, monstate),
        identified,
        eliminated,
        grade,
        phone if reveal_phone else mask_phone(phone),
        wage,
        biz_in,
        biz_out,
        prop,
        transfer,
        self_paid,
        _yes_no(food),
        housing,
        _yes_no(water),
        head,
        size,
        net,
        per_capita if per_capita is not None else "",
        SUGGESTION_LABELS.get(suggestion, suggestion),
        reason,
    ]


def _member_row(values: tuple, reveal: bool) -> list:
    row = list(values)
    if reveal:
        row[2] = values[-1][0]  # the decrypted number, appended for this purpose
        row = row[:-1]
    for i in (13, 14, 15, 16, 17):
        row[i] = _yes_no(row[i])
    if row[11] is None:
        row[11] = ""
    phone = row[18]
    row[18] = phone if reveal else mask_phone(phone)
    return row


def households_queryset(*, actor: User, params=None, region_code: str | None = None):
    """The households an export covers: the actor's jurisdiction (everything for the command-line operator),
    narrowed by the household list's filters (``registry.filters.household_filter``) or a region code."""
    from .filters import household_filter

    qs = Household.objects.for_user(actor, "household.export")
    if region_code:
        try:
            validate_code(region_code)
        except ValueError as exc:
            raise DomainError(f"区划代码 {region_code} 无效：{exc}") from None
        lo, hi = code_range(region_code)
        qs = qs.filter(region_id__gte=lo, region_id__lt=hi)
    if params is not None:
        line_region = getattr(actor, "region_id", None) or region_code or ""
        qs, _cleaned = household_filter(qs, params, line_region=line_region)
    else:  # the list's default: cancelled households left out
        qs = qs.filter(cancelled=False).order_by("region_id", "number")
    return qs


def _may_reveal(actor: User) -> bool:
    return actor.can("household.view_id")


def households_export(
    *,
    actor: User,
    path: Path | str,
    queryset=None,
    params=None,
    region_code: str | None = None,
    reveal_ids: bool = False,
    members: bool = False,
    progress: Progress | None = None,
) -> ExportSummary:
    """Write 农户清单 to ``path`` (.xlsx or .csv by its suffix). ``queryset`` (already scoped) or the list's filter
    ``params`` / a ``region_code`` choose the households; ``members`` adds a 成员信息 sheet (.xlsx only);
    ``reveal_ids`` shows ID numbers and phones whole — only for a user allowed ``household.view_id``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise DomainError("导出文件应以 .xlsx 或 .csv 结尾")
    if members and suffix == ".csv":
        raise DomainError("成员信息只能导出为 .xlsx（CSV 只能有一张表）")
    if reveal_ids and not _may_reveal(actor):
        raise DomainError("您的角色无权导出完整证件号码")
    if not actor.can("household.export"):
        raise DomainError("您的角色无权导出农户信息")
    qs = (
        queryset
        if queryset is not None
        else households_queryset(actor=actor, params=params, region_code=region_code)
    )
    progress = progress or (lambda done, total, message="": None)
    total = qs.count()
    progress(0, total, "正在导出")
    places = _PlaceNames()
    rows = (
        (values, places(values[1]))
        for values in qs.values_list(*HOUSEHOLD_EXPORT_FIELDS).iterator(chunk_size=CHUNK)
    )
    member_count = 0
    if suffix == ".csv":
        written = _write_csv(path, rows, reveal_ids, progress, total)
    else:
        member_rows = None
        if members:
            # Unscoped: the members of the households of ``qs``, itself scoped (a subquery).
            mqs = (
                Member.objects.unscoped()
                .filter(household__in=qs.order_by().values("pk"), status=Member.Status.ACTIVE)
                .order_by("household__region_id", "household__number", "-is_head", "pk")
            )
            fields = [*MEMBER_EXPORT_FIELDS, "id_number"] if reveal_ids else MEMBER_EXPORT_FIELDS
            member_rows = (
                (*r[:-1], (r[-1],)) if reveal_ids else r
                for r in mqs.values_list(*fields).iterator(chunk_size=CHUNK)
            )
        written, member_count = _write_xlsx(path, rows, member_rows, reveal_ids, progress, total)
    audit.record(
        actor,
        "household.exported",
        object_type="registry.household",
        object_label=path.name[:200],
        region_code=region_code or (getattr(actor, "region_id", "") or ""),
        after={
            "households": written,
            "members": member_count,
            "format": suffix.lstrip("."),
            "reveal_ids": bool(reveal_ids),
            "filters": {k: v for k, v in (params or {}).items() if k != "q"} if params is not None else {},
        },
    )
    progress(total, total, "完成")
    return ExportSummary(path=str(path), households=written, members=member_count)


def _write_csv(path: Path, rows, reveal: bool, progress: Progress, total: int) -> int:
    def values():
        for count, (row, place) in enumerate(rows, start=1):
            yield [*_household_row(row, reveal), *place]
            if count % 5000 == 0:
                progress(count, total, "正在导出")

    return write_csv(path, headers=HOUSEHOLD_LIST_HEADERS, rows=values())


def _write_xlsx(
    path: Path, rows, member_rows, reveal: bool, progress: Progress, total: int
) -> tuple[int, int]:
    book = workbook(str(path), constant_memory=True)
    try:
        head = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
        money_fmt = book.add_format({"num_format": "0.00"})
        text_fmt = book.add_format({"num_format": "@"})
        count = _sheet(
            book,
            EXPORT_SHEET,
            HOUSEHOLD_LIST_HEADERS,
            ([*_household_row(v, reveal), *place] for v, place in rows),
            head,
            money_fmt,
            text_fmt,
            progress,
            total,
        )
        members = 0
        if member_rows is not None:
            headers = [c.header for c in MEMBER_COLUMNS]
            members = _sheet(
                book,
                MEMBER_SHEET,
                headers,
                (_member_row(v, reveal) for v in member_rows),
                head,
                money_fmt,
                text_fmt,
                None,
                0,
            )
    finally:
        book.close()
    return count, members


def _sheet(book, name, headers, rows, head, money_fmt, text_fmt, progress, total) -> int:
    ws = book.add_worksheet(name)
    ws.freeze_panes(1, 0)
    kinds = []
    for col, header in enumerate(headers):
        if header in _TEXT_HEADERS:
            kinds.append("text")
            ws.set_column(col, col, 20, text_fmt)
        elif header in _MONEY_HEADERS:
            kinds.append("money")
            ws.set_column(col, col, 12)
        elif header == "建议理由":
            kinds.append("")
            ws.set_column(col, col, 60)
        else:
            kinds.append("")
            ws.set_column(col, col, max(8, len(header) * 2 + 2))
        ws.write_string(0, col, header, head)
    write_string, write_number = ws.write_string, ws.write_number
    count = 0
    for count, values in enumerate(rows, start=1):  # noqa: B007
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            kind = kinds[col]
            if kind == "money" and isinstance(value, Decimal):
                write_number(count, col, float(value), money_fmt)
            elif kind == "text":
                write_string(count, col, str(value), text_fmt)
            elif isinstance(value, int) and not isinstance(value, bool):
                write_number(count, col, value)
            else:
                write_string(count, col, str(value))
        if progress is not None and count % 5000 == 0:
            progress(count, total, "正在导出")
    return count


def _export_households_kind(
    *, actor: User, path, region_code=None, reveal_ids=False, progress=None, options=None
) -> str:
    options = options or {}
    summary = households_export(
        actor=actor,
        path=path,
        region_code=region_code,
        reveal_ids=reveal_ids,
        members=bool(options.get("members")),
        progress=progress,
    )
    text = f"已导出农户 {summary.households} 户"
    if summary.members:
        text += f"、成员 {summary.members} 人"
    return f"{text}到 {summary.path}"


register_export("households", _export_households_kind, "农户清单")
