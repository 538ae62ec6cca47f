"""帮扶措施落实台账 (DATA-FORMATS §5, ``measures``): a title row, the fixed headers, monitored households first;
A4 landscape, the header repeated on each page, fitted to the page width, page numbers in the footer."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import IO

import xlsxwriter
from django.db.models import QuerySet

from fangfan.accounts.roles import Department
from fangfan.core import audit
from fangfan.core.xlsx import MAX_ROWS
from fangfan.monitoring.choices import RiskType

from .models import Measure

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
    """Write one printable ledger (DATA-FORMATS §5): a title row over the columns, the header row, the rows; A4
    landscape, the header row repeated on every page, fitted to the page width, page numbers in the footer.
    Money columns as numbers with two decimals, ``number_columns`` as plain numbers, the rest as text. Returns the
    number of rows written (at most what a sheet holds)."""
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False})
    count = 0
    try:
        ws = workbook.add_worksheet(sheet[:31])
        title_format = workbook.add_format({"bold": True, "font_size": 14, "align": "center"})
        head = workbook.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1, "text_wrap": True})
        cell = workbook.add_format({"border": 1})
        money = workbook.add_format({"border": 1, "num_format": "#,##0.00"})
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(1)
        ws.set_footer("&C第 &P 页，共 &N 页")
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        ws.merge_range(0, 0, 0, len(headers) - 1, title, title_format)
        for col, header in enumerate(headers):
            ws.write_string(1, col, header, head)
        ws.freeze_panes(2, 0)
        for count, values in enumerate(rows, start=1):
            if count > MAX_ROWS - 1:
                count -= 1
                break
            for col, value in enumerate(values):
                if value is None or value == "":
                    ws.write_blank(count + 1, col, None, cell)
                elif col in money_columns:
                    ws.write_number(count + 1, col, float(value), money)
                elif col in number_columns:
                    ws.write_number(count + 1, col, float(value), cell)
                else:
                    ws.write_string(count + 1, col, str(value), cell)
    finally:
        workbook.close()
    return count


def ledger_rows(queryset: QuerySet[Measure], villages: dict[str, str]) -> Iterator[list]:
    risks, departments = dict(RiskType.choices), dict(Department.choices)
    for n, m in enumerate(queryset.iterator(chunk_size=2000), start=1):
        mt = m.measure_type
        yield [
            n,
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


def measures_ledger_export(
    *,
    actor,
    queryset: QuerySet[Measure],
    villages: dict[str, str],
    place: str,
    date_text: str,
    path: str | IO[bytes],
    filters: dict,
) -> int:
    """Write the ledger of the given (scoped, filtered, ordered) measures; audited with the filters and the count
    (the sheet names household heads)."""
    count = write_ledger(
        path,
        title=f"{TITLE}（{place}，{date_text}）",
        sheet=TITLE,
        headers=HEADERS,
        widths=WIDTHS,
        rows=ledger_rows(queryset, villages),
        money_columns={12},
    )
    audit.record(
        actor,
        "measure.ledger_exported",
        object_type="assistance.measure",
        after={"rows": count, "filters": filters},
        note="导出帮扶措施落实台账",
    )
    return count
