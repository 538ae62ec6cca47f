"""Bounds on an uploaded spreadsheet, checked before any reader allocates for it (security issue 16).

python-calamine sizes a sheet from its ``<dimension ref=…>`` and from its cells' positions, not from what the file
holds: a 5 KB workbook with one cell at XFD1048576 makes it allocate ≈ 550 GB and abort the process. So every
reader (``core.tabular``, the household importer) calls ``check_xlsx`` / ``check_csv`` first; they refuse a file
whose rows, columns or cells (rows × columns of every sheet, as the reader would allocate them), uncompressed size
(a zip bomb) or number of sheets exceed ``limits()`` (settings ``FILE_MAX_*``, env ``FANGFAN_FILE_MAX_*``), with a
Chinese message naming the sheet.

The sheet XML is read once, decompressed chunk by chunk, with C-speed regular expressions only: cells and rows
that carry their reference (``<c r="B7">``, as every spreadsheet program writes them) are bounded by patterns that
match a reference *above* a limit (normally they match nothing). Each chunk's largest row is the ``r`` of its last
``<row>``, verified by a search for anything above it; the largest column is then bounded the same way against
cells ÷ rows. A sheet whose cells or rows lack a plain reference (allowed by the format: positions then count
on) is walked tag by tag, bounded by the uncompressed size.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from .errors import ValidationFailed

CHUNK = 8 * 1024 * 1024
EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384


@dataclass(frozen=True)
class Limits:
    rows: int  # rows of a sheet (the header included), or of a CSV file
    columns: int  # columns of a sheet or CSV file
    cells: int  # rows × columns, summed over the sheets of a workbook (what the reader allocates)
    sheets: int
    unzipped_bytes: int  # a workbook's parts, uncompressed, together
    file_bytes: int  # the file as uploaded (CSV: read whole into memory)


def limits(**override: int) -> Limits:
    values = {
        "rows": settings.FILE_MAX_ROWS,
        "columns": settings.FILE_MAX_COLUMNS,
        "cells": settings.FILE_MAX_CELLS,
        "sheets": settings.FILE_MAX_SHEETS,
        "unzipped_bytes": settings.FILE_MAX_UNZIPPED_BYTES,
        "file_bytes": settings.FILE_MAX_BYTES,
    }
    values.update({k: v for k, v in override.items() if v is not None})
    return Limits(**values)


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB" if size >= 1024 * 1024 else f"{max(size // 1024, 1)} KB"


def _too_big(name: str, what: str) -> ValidationFailed:
    return ValidationFailed(f"文件过大：{name}{what}，未导入任何数据；请拆分成几个文件后再导入")


def check_file_size(path: Path, name: str, bound: Limits) -> None:
    size = path.stat().st_size
    if size > bound.file_bytes:
        raise _too_big(name, f" 有 {_mb(size)}，最多允许 {_mb(bound.file_bytes)}")


def check_csv(path: Path, name: str, bound: Limits) -> None:
    """Before a CSV file is read into memory: its size. Rows, columns and cells are counted by the readers
    (``check_csv_text``), on the text they decoded."""
    check_file_size(path, name, bound)


def check_csv_text(text: str, name: str, bound: Limits) -> None:
    """Rows and cells of a decoded CSV text, counted in C (a quoted field may hold a newline or a comma: the
    counts are upper bounds, refused only when the true counts may exceed the limits by that much too)."""
    lines = text.count("\n") + 1
    if lines > bound.rows + 1:
        raise _too_big(name, f" 有 {lines} 行，最多允许 {bound.rows} 行")
    if text.count(",") + lines > bound.cells:
        raise _too_big(name, f" 的单元格超过 {bound.cells} 个")


def check_csv_row(name: str, number: int, width: int, bound: Limits) -> None:
    if number > bound.rows:
        raise _too_big(name, f" 超过 {bound.rows} 行")
    if width > bound.columns:
        raise _too_big(name, f" 第{number}行有 {width} 列，最多允许 {bound.columns} 列")


# --- references ---------------------------------------------------------------------------------------------------


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _above(value: str, alphabet: str, first: str) -> str:
    """A regular expression matching a string of ``alphabet`` (no leading ``alphabet[0]`` for numbers) that is
    greater than ``value`` in the order of its kind: longer, or as long and greater position by position."""
    top = alphabet[-1]

    def after(ch: str) -> str:
        rest = alphabet[alphabet.index(ch) + 1 :]
        return f"[{rest[0]}-{top}]" if len(rest) > 1 else re.escape(rest)

    one = f"[{alphabet[0]}-{top}]"
    parts = [f"[{first}-{top}]{one}{{{len(value)},}}"]  # longer
    for i, ch in enumerate(value):
        if ch != top:
            tail = f"{one}{{{len(value) - i - 1}}}" if i < len(value) - 1 else ""
            parts.append(f"{re.escape(value[:i])}{after(ch)}{tail}")
    return "(?:" + "|".join(parts) + ")"


def _row_above(n: int) -> str:
    return _above(str(n), "0123456789", "1")


def _column_above(n: int) -> str:
    return _above(column_letters(n), "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "A")


@lru_cache(maxsize=256)
def _beyond(rows: int, columns: int) -> re.Pattern[bytes]:
    """A cell or row reference (``r="…"``) whose column is above ``columns``, or whose row may be above ``rows``:
    more digits, or as many and a greater first digit (cheap per candidate; the rows bound is therefore rounded up
    to the next leading digit, ``_rows_bound``)."""
    digits = str(rows)
    first = int(digits[0])
    row = f"[1-9][0-9]{{{len(digits)}}}"
    if first < 9:
        row += f"|[{first + 1}-9][0-9]{{{len(digits) - 1}}}[\"']"
    pattern = f" r=[\"'](?:{_column_above(columns)}[0-9]|[A-Z]*+0*+(?:{row}))"
    return re.compile(pattern.encode(), re.IGNORECASE)


def _rows_bound(rows: int) -> int:
    digits = str(rows)
    return (int(digits[0]) + 1) * int(10 ** (len(digits) - 1)) - 1


# A cell or row tag whose first attribute is not its reference (its position then counts on from the previous).
_IRREGULAR = re.compile(rb"[<:](?:c|row)(?:>|/>|\s[^r])")
_LAST_ROW = re.compile(rb".*<(?:[A-Za-z_][\w.-]*:)?row\s++r=[\"']0*([0-9]{1,9})[\"']", re.DOTALL)
_SHEET_ENTRY = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheet\s")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*?ref=[\"']([^\"']*)[\"']")
_REF = re.compile(r"\$?([A-Z]{1,4})\$?0*([0-9]{1,8})$")
_TAGS = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(c|row)(?=[\s>/])([^>]*)>")
_R_ATTR = re.compile(rb"\sr=[\"']([^\"']*)[\"']")


# --- workbooks ------------------------------------------------------------------------------------------------------


def check_xlsx(path: Path, name: str, bound: Limits) -> None:
    """Refuse (``ValidationFailed``, Chinese) a workbook a reader could not hold within ``bound``."""
    check_file_size(path, name, bound)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > bound.unzipped_bytes or len(members) > 10_000:
                raise _too_big(name, f" 解压后超过 {_mb(bound.unzipped_bytes)}")
            sheets = [m for m in members if _is_sheet(m.filename)]
            if len(sheets) > bound.sheets:
                raise _too_big(name, f" 有 {len(sheets)} 张工作表，最多允许 {bound.sheets} 张")
            entries = _sheet_entries(archive)
            if entries > bound.sheets:
                raise _too_big(name, f" 有 {entries} 张工作表，最多允许 {bound.sheets} 张")
            cells = largest = 0
            for member in members:
                part = _check_part(archive, member, name, bound, bound.cells - cells)
                cells += part
                largest = max(largest, part)
            # Several sheets naming one part are read once each.
            if entries > len(sheets) and cells + (entries - len(sheets)) * largest > bound.cells:
                raise _too_big(name, f" 的单元格超过 {bound.cells} 个")
    except ValidationFailed:
        raise
    except Exception as exc:  # a damaged package: zipfile, zlib, struct errors — never a crash
        raise ValidationFailed(
            f"{name}：无法读取 Excel 文件（{type(exc).__name__}），请确认它是 .xlsx 格式"
        ) from None


def _sheet_entries(archive: zipfile.ZipFile) -> int:
    try:
        info = archive.getinfo("xl/workbook.xml")
    except KeyError:
        return 0
    with archive.open(info) as stream:
        head = stream.read(4 * 1024 * 1024)
    return len(_SHEET_ENTRY.findall(head))


def _is_sheet(filename: str) -> bool:
    low = filename.lower()
    return low.startswith("xl/worksheets/") and low.endswith(".xml")


def _sheet_label(filename: str) -> str:
    return Path(filename).stem


def _ladder(cap: int) -> list[int]:
    steps = (10, 20, 26, 30, 40, 52, 64, 80, 100, 128, 160, 200, 256, 512, 1024, 4096, EXCEL_COLUMNS)
    return [s for s in steps if s < cap] + [cap]


def _check_part(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, bound: Limits, room: int
) -> int:
    """Check one part; returns the cells the reader would allocate for it at most (0 for a part without cells)."""
    label = f" 工作表“{_sheet_label(member.filename)}”"
    rows_cap = min(bound.rows, EXCEL_ROWS)
    columns_cap = min(bound.columns, EXCEL_COLUMNS)
    ladder = _ladder(columns_cap)
    step = 0  # no cell so far lies right of column ladder[step]
    max_row = 0
    irregular = False
    tail = b""
    first = True
    with archive.open(member) as stream:
        while block := stream.read(CHUNK):
            data = tail + block
            cut = data.rfind(b">") + 1
            if len(data) - cut > 1024 * 1024:  # a tag longer than a megabyte: no spreadsheet writes that
                raise ValidationFailed(f"{name}{label}：内容格式异常，请在 Excel 中另存为 .xlsx 后再导入")
            data, tail = data[:cut], data[cut:]
            if first:
                first = False
                _check_dimension(data, name, label, bound, room)
            if irregular:
                continue  # walked tag by tag below
            if _IRREGULAR.search(data):
                irregular = True
                continue
            last = _LAST_ROW.match(data)
            if last:
                max_row = max(max_row, int(last.group(1)))
            if max_row > rows_cap:
                raise _too_big(name, f"{label}有 {max_row} 行，最多允许 {rows_cap} 行")
            # A reference beyond this chunk's last row (rows out of order, a cell outside its row) is walked; a
            # column beyond the ladder's step moves it up (to the cap, beyond which the file is refused).
            while found := _beyond(max(max_row, 1), ladder[step]).search(data):
                if _beyond(max(max_row, 1), EXCEL_COLUMNS).match(data, found.start()):
                    irregular = True
                    break
                if step == len(ladder) - 1:
                    raise _too_big(name, f"{label}有单元格超出第 {columns_cap} 列，最多允许 {columns_cap} 列")
                step += 1
    if irregular:
        max_row, max_column = _walk(archive, member, name, label, bound)
    else:
        max_row = min(_rows_bound(max_row), rows_cap) if max_row else 0
        max_column = ladder[step] if max_row else 0
    cells = max_row * max_column
    if cells > room:
        raise _too_big(
            name,
            f"{label}有 {max_row} 行、约 {max_column} 列，整个文件最多允许 {bound.cells} 个单元格",
        )
    return cells


def _check_dimension(head: bytes, name: str, label: str, bound: Limits, room: int) -> None:
    found = _DIMENSION.search(head[: 64 * 1024])
    if not found:
        return
    ends = found.group(1).decode("ascii", "replace").upper().split(":")
    rows = columns = 1
    for ref in ends:
        parsed = _REF.match(ref.strip())
        if not parsed:
            raise ValidationFailed(
                f"{name}{label}：工作表范围“{found.group(1).decode('ascii', 'replace')[:30]}”无效，请在 Excel 中另存为 .xlsx 后再导入"
            )
        rows = max(rows, int(parsed.group(2)))
        columns = max(columns, column_number(parsed.group(1)))
    if (
        rows > min(bound.rows, EXCEL_ROWS)
        or columns > min(bound.columns, EXCEL_COLUMNS)
        or rows * columns > room
    ):
        raise _too_big(
            name,
            f"{label}有 {rows} 行、{columns} 列，最多允许 {min(bound.rows, EXCEL_ROWS)} 行、"
            f"{min(bound.columns, EXCEL_COLUMNS)} 列、共 {bound.cells} 个单元格",
        )


def _walk(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, label: str, bound: Limits
) -> tuple[int, int]:
    """Every cell's position as a reader counts it (a cell or row without a reference follows the previous one):
    the largest row and column. Slow (a tag at a time), for the rare file written without references."""
    rows_cap = min(bound.rows, EXCEL_ROWS)
    columns_cap = min(bound.columns, EXCEL_COLUMNS)
    row = column = max_row = max_column = 0
    tail = b""
    with archive.open(member) as stream:
        while block := stream.read(CHUNK):
            data = tail + block
            cut = data.rfind(b">") + 1
            data, tail = data[:cut], data[cut:]
            for closing, tag, attrs in _TAGS.findall(data):
                if closing:
                    continue
                ref = _R_ATTR.search(attrs)
                value = ref.group(1).decode("ascii", "replace").upper() if ref else ""
                if tag == b"row":
                    row = int(value) if value.isdigit() else row + 1
                    column = 0
                else:
                    parsed = _REF.match(value) if value else None
                    if value and not parsed:
                        raise ValidationFailed(
                            f"{name}{label}：单元格位置“{value[:20]}”无效，请在 Excel 中另存为 .xlsx 后再导入"
                        )
                    if parsed:
                        column, row = column_number(parsed.group(1)), max(int(parsed.group(2)), 1)
                    else:
                        column += 1
                    max_column = max(max_column, column)
                max_row = max(max_row, row)
                if max_row > rows_cap or max_column > columns_cap or max_row * max_column > bound.cells:
                    raise _too_big(
                        name,
                        f"{label}有单元格在第 {max_row} 行、第 {max_column} 列，最多允许 {rows_cap} 行、{columns_cap} 列",
                    )
    return max_row, max_column
