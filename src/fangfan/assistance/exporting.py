"""帮扶措施落实台账 (DATA-FORMATS §5, ``measures``): a title row, the fixed headers, monitored households first;
A4 landscape, the header repeated on each page, fitted to the page width, page numbers in the footer."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING

from django.db.models import QuerySet

from fangfan.accounts.roles import Department
from fangfan.core import audit
from fangfan.core.xlsx import write_printable
from fangfan.monitoring.choices import RiskType

from .models import Measure

if TYPE_CHECKING:
    from fangfan.accounts.models import User

TITLE = "帮扶措施落实台账"
HEADERS = [
    "序号",
    "村",
    "户编号",
    "户主姓名",
    "风险类型",
    "措施",
    "类别",
    "性质",
    "责任部门",
    "责任人",
    "计划日期",
    "落实日期",
    "金额（元）",
    "状态",
]
WIDTHS = [6, 10, 20, 10, 14, 18, 12, 10, 10, 12, 12, 12, 12, 8]


def measure_values(m: Measure, villages: dict[str, str], risks: dict, departments: dict) -> list:
    """One measure's cells after 序号 (the framework of ``reports.ledgers`` numbers the rows)."""
    mt = m.measure_type
    return [
        villages.get(m.region_code, m.region_code),
        m.household.number,
        m.household.head_name,
        str(risks.get(m.risk.risk_type, "")) if m.risk_id else "整户",
        mt.name,
        mt.get_category_display(),
        mt.get_kind_display(),
        str(departments.get(m.department, "")),
        m.responsible,
        m.planned_on.isoformat(),
        m.done_on.isoformat() if m.done_on else "",
        m.amount,
        m.get_state_display(),
    ]


def write_ledger(
    path: str | IO[bytes],
    *,
    title: str,
    sheet: str,
    headers: Sequence[str],
    widths: Sequence[int],
    rows: Iterable[Sequence],
    money_columns: Collection[int] = (),
    number_columns: Collection[int] = (0,),
) -> int:
    """One printable ledger (DATA-FORMATS §5) through the one writer every ledger uses (``core.xlsx.write_printable``:
    A4 landscape, title row, header repeated, fitted to the width, page numbers). Returns the rows written."""
    return write_printable(
        path,
        sheet=sheet,
        title=title,
        headers=headers,
        rows=rows,
        widths=widths,
        numbers=tuple(number_columns),
        money=tuple(money_columns),
    )


def ledger_rows(queryset: QuerySet[Measure], villages: dict[str, str]) -> Iterator[list]:
    risks, departments = dict(RiskType.choices), dict(Department.choices)
    for n, m in enumerate(queryset.iterator(chunk_size=2000), start=1):
        yield [n, *measure_values(m, villages, risks, departments)]


def measures_ledger_export(
    *,
    actor: User,
    queryset: QuerySet[Measure],
    villages: dict[str, str],
    place: str,
    date_text: str,
    path: str | IO[bytes],
    filters: dict,
) -> int:
    """Write the ledger of the given (scoped, filtered, ordered) measures; audited with the filters and the count
    (the sheet names household heads). The print settings are ``core.xlsx.write_printable``'s, as every ledger's."""
    count = write_printable(
        path,
        sheet=TITLE,
        title=f"{TITLE}（{place}，{date_text}）",
        headers=HEADERS,
        rows=ledger_rows(queryset, villages),
        widths=WIDTHS,
        numbers=(0,),
        money=(12,),
    )
    audit.record(
        actor,
        "measure.ledger_exported",
        object_type="assistance.measure",
        after={"rows": count, "filters": filters},
        note="导出帮扶措施落实台账",
    )
    return count
