"""Writing spreadsheets people open in Excel: xlsxwriter in constant-memory mode (rows stream to disk), text
cells for codes and IDs (Excel keeps only 15 significant digits of a number), Chinese headers, frozen header row.

Every exported sheet and CSV goes through here, because cells hold what people typed (a name, a note, a file name)
and a spreadsheet may run a cell as a formula (CSV injection: ``=HYPERLINK(…)``, ``+cmd|…``, ``@SUM(…)``):
``workbook`` opens an .xlsx that never turns a string into a formula or a link (cells are written with
``write_string``), and ``write_csv`` neutralises every text cell that a spreadsheet would read as a formula
(``csv_cell``, OWASP's rule: a leading single quote).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import xlsxwriter

# Excel's limit is 1 048 576 rows per sheet, header included.
MAX_ROWS = 1_048_575
# What a spreadsheet may take for the start of a formula (OWASP "CSV Injection"; a line feed too, to be safe).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# A plain number written as text (a money column's "-5.00"): no formula, and a quote would spoil its sums.
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def workbook(target: str | IO[bytes], **options: Any) -> xlsxwriter.Workbook:
    """An xlsxwriter workbook that never reads a string as a formula, a link or a number."""
    return xlsxwriter.Workbook(
        target,
        {
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            **options,
        },
    )


class TemplateFormats:
    """The cell formats of an import template (a 模板 users fill in): the header, a required column's header (red),
    and a column kept as text (Excel's built-in "@", so ID numbers keep their digits)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        header = {"bold": True, "bg_color": "#E8EEF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
        self.head = book.add_format(header)
        self.head_required = book.add_format({**header, "font_color": "#C00000"})
        self.as_text = book.add_format({"num_format": 49})


def csv_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading ``'``; other values as they are
    (numbers, dates, and text that is a plain number such as ``-5.00``)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_csv(path: str | Path, *, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a CSV people open in Excel (UTF-8 with BOM), every text cell neutralised; returns the data rows."""
    count = 0
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([csv_cell(h) for h in headers])
        for count, values in enumerate(rows, start=1):  # noqa: B007
            writer.writerow(["" if v is None else csv_cell(v) for v in values])
    return count


def write_xlsx(
    target: str | IO[bytes],
    *,
    sheet: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[int] | None = None,
) -> int:
    """Write one sheet; returns the number of data rows written (at most ``MAX_ROWS``). Every value is written
    as text so that codes keep their leading zeros and long numbers their digits."""
    book = workbook(target, constant_memory=True)
    try:
        ws = book.add_worksheet(sheet[:31])
        head = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
        for col, title in enumerate(headers):
            ws.set_column(col, col, (widths[col] if widths and col < len(widths) else 14))
            ws.write_string(0, col, str(title), head)
        ws.freeze_panes(1, 0)
        written = 0
        for written, values in enumerate(rows, start=1):  # noqa: B007
            if written > MAX_ROWS:
                written -= 1
                break
            for col, value in enumerate(values):
                if value is None or value == "":
                    continue
                ws.write_string(written, col, str(value))
        return written
    finally:
        book.close()


def write_printable(
    target: str | IO[bytes],
    *,
    sheet: str,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[int] | None = None,
    numbers: Sequence[int] = (),
    money: Sequence[int] = (),
) -> int:
    """One sheet that prints: A4 landscape, a title row (merged over the columns) and the header row repeated on
    every page, fitted to the page width, "第 N 页，共 M 页" in the footer. Rows stream to disk (constant memory).
    ``numbers`` and ``money``: the columns written as numbers (the others as text, so codes keep their zeros).
    Returns the number of data rows written (at most ``MAX_ROWS`` less the title)."""
    book = workbook(target, constant_memory=True)
    count = 0
    try:
        ws = book.add_worksheet(sheet[:31])
        title_format = book.add_format({"bold": True, "font_size": 14, "align": "center"})
        head = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1, "text_wrap": True})
        # The grid's border comes from one conditional format over the data (below), not from a style on each
        # cell and a bordered blank for each empty one: those made the writer 1.5× bare xlsxwriter on a county's
        # 监测对象台账 (40 % more cells, a style looked up per cell).
        grid = book.add_format({"border": 1})
        money_format = book.add_format({"num_format": "#,##0.00"})
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)  # the page width, as many pages down as it takes
        ws.repeat_rows(1)  # the header row on every page
        ws.set_footer("&C第 &P 页，共 &N 页")
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        for col in range(len(headers)):
            ws.set_column(col, col, widths[col] if widths and col < len(widths) else 12)
        if len(headers) > 1:
            ws.merge_range(0, 0, 0, len(headers) - 1, title, title_format)
        else:
            ws.write_string(0, 0, title, title_format)
        for col, header in enumerate(headers):
            ws.write_string(1, col, str(header), head)
        ws.freeze_panes(2, 0)
        # The type is fixed per column, looked up once: xlsxwriter's generic ``write`` guesses each value. The
        # cells go straight to the worksheet's ``_write_*`` (its public ``write_*`` wrap each call to accept "A1"
        # references: ≈ 10 % of a county's 监测对象台账 export, 180 000 cells).
        kinds = [2 if col in money else 1 if col in numbers else 0 for col in range(len(headers))]
        write_string, write_number = ws._write_string, ws._write_number
        last_col = len(headers) - 1
        for count, values in enumerate(rows, start=1):  # noqa: B007
            if count > MAX_ROWS - 1:
                count -= 1
                break
            r = count + 1
            last_col = max(last_col, len(values) - 1)
            for col, value in enumerate(values):
                if value is None or value == "":
                    continue  # an empty cell: the grid's border is drawn by the conditional format
                kind = kinds[col] if col < len(kinds) else 0
                if kind == 0:
                    write_string(r, col, value if value.__class__ is str else str(value))
                elif kind == 1:
                    write_number(r, col, value)
                else:
                    write_number(r, col, float(value), money_format)
        if count:
            ws.conditional_format(
                2, 0, count + 1, last_col, {"type": "formula", "criteria": "TRUE", "format": grid}
            )
    finally:
        book.close()
    return count
