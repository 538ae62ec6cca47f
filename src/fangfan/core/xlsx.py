"""Writing spreadsheets people open in Excel: xlsxwriter in constant-memory mode (rows stream to disk), text
cells for codes and IDs (Excel keeps only 15 significant digits of a number), Chinese headers, frozen header row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import IO, Any

import xlsxwriter

# Excel's limit is 1 048 576 rows per sheet, header included.
MAX_ROWS = 1_048_575


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
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_numbers": False})
    try:
        ws = workbook.add_worksheet(sheet[:31])
        head = workbook.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
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
        workbook.close()
