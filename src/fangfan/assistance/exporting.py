"""帮扶措施落实台账 (DATA-FORMATS §5, ``measures``): a title row, the fixed headers, monitored households first;
A4 landscape, the header repeated on each page, fitted to the page width, page numbers in the footer. And the
monthly 联系台账 page's Excel (``contact_ledger_export``)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import date
from typing import IO, TYPE_CHECKING, Any

from django.db.models import QuerySet

from fangfan.accounts.models import User
from fangfan.accounts.roles import Department
from fangfan.core import audit
from fangfan.core.xlsx import write_printable, write_xlsx
from fangfan.monitoring.choices import RiskType
from fangfan.registry.models import Household

from .models import ContactRecord, Measure

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


# --- 联系台账 -------------------------------------------------------------------------------------------------------

CONTACT_LEDGER_HEADERS = [
    "户编号",
    "村",
    "户主",
    "户类型",
    "类别",
    "帮扶责任人/联系人",
    "本月联系次数",
    "最近联系日期",
]


def contact_ledger_export(
    *, actor: User, rows: QuerySet[Household], first: date, path: str | IO[bytes], filters: dict[str, Any]
) -> int:
    """The monthly 联系台账 as .xlsx (``contacts.contact_ledger``'s rows, in its order); audited with the month, the
    filters and the row count (the sheet names household heads). Moved from ``registry.exporter`` (issue 17)."""

    def values() -> Iterator[list[str]]:
        for h in rows.iterator(chunk_size=2000):
            kind = (
                h.get_exited_class_display()
                if h.household_type == "exited"
                else h.get_monitoring_type_display()
            )
            yield [
                h.number,
                h.region.name,
                h.head_name,
                h.get_household_type_display(),
                kind or "",
                h.helper_name or "未落实",
                str(h.month_contacts),
                h.last_contact.isoformat() if h.last_contact else "",
            ]

    count = write_xlsx(
        path,
        sheet=f"{first:%Y年%m月}联系台账",
        headers=CONTACT_LEDGER_HEADERS,
        rows=values(),
        widths=[20, 12, 10, 10, 14, 16, 12, 14],
    )
    audit.record(
        actor,
        "household.ledger_exported",
        object_type=ContactRecord._meta.label_lower,
        after={"rows": count, "month": f"{first:%Y-%m}", "filters": filters},
        note="导出联系台账",
    )
    return count
