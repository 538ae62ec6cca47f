"""Reading the spreadsheets township staff move data in: .xlsx (python-calamine) and .csv (UTF-8 with or
without BOM, or GB18030 as Chinese Excel saves it). Headers are matched after trimming spaces; every problem is
reported with file, sheet, row, column, value and reason (spec/DATA-FORMATS.md, common rules)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .errors import ValidationFailed
from .filelimits import Limits, check_csv, check_csv_row, check_csv_text, check_xlsx, limits


@dataclass(frozen=True)
class Problem:
    """One bad cell or row: where it is, what it holds, and why it is refused (Chinese)."""

    file: str
    sheet: str
    row: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}"
        if self.sheet:
            where += f" 工作表“{self.sheet}”"
        if self.row:
            where += f" 第{self.row}行"
        if self.column:
            where += f" 列“{self.column}”"
        value = f"（值：{self.value}）" if self.value not in ("", None) else ""
        return f"{where}{value}：{self.reason}"


@dataclass
class Sheet:
    """A table read from a file: header names and rows as dicts keyed by the trimmed header, with row numbers
    as a person sees them in Excel (the header is row 1)."""

    file: str
    name: str
    headers: list[str]
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)


def _clean_header(value: object) -> str:
    return str(value if value is not None else "").replace("\u3000", " ").strip()


def _decode_csv(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed("文件既不是 UTF-8 也不是 GB18030 编码的 CSV，请用 Excel 另存为“CSV UTF-8”后再导入")


def read_csv(path: Path, *, display_name: str | None = None, bound: Limits | None = None) -> Sheet:
    name = display_name or path.name
    bound = bound or limits()
    check_csv(path, name, bound)
    text = _decode_csv(path.read_bytes())
    check_csv_text(text, name, bound)
    reader = csv.reader(io.StringIO(text))
    try:
        header_row = next(reader)
    except StopIteration:
        raise ValidationFailed(f"{name}：文件是空的") from None
    check_csv_row(name, 1, len(header_row), bound)
    headers = [_clean_header(h) for h in header_row]
    sheet = Sheet(file=name, name="", headers=headers)
    for number, cells in _csv_rows(reader, name):
        check_csv_row(name, number, len(cells), bound)
        if not any(c.strip() for c in cells):
            continue
        sheet.rows.append(
            (number, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers) if h})
        )
    return sheet


def _csv_rows(reader, name: str) -> Iterator[tuple[int, list[str]]]:
    try:
        yield from enumerate(reader, start=2)
    except csv.Error as exc:
        raise ValidationFailed(f"{name}：第{reader.line_num}行不是正确的 CSV 格式（{exc}）") from None


def read_xlsx(path: Path, *, display_name: str | None = None, bound: Limits | None = None) -> list[Sheet]:
    from python_calamine import CalamineWorkbook

    name = display_name or path.name
    # Before calamine allocates: it sizes a sheet by its cells' positions (a 5 KB file can ask for 550 GB).
    check_xlsx(path, name, bound or limits())
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise ValidationFailed(
            f"{name}：无法读取 Excel 文件（{type(exc).__name__}），请确认它是 .xlsx 格式"
        ) from exc
    sheets = []
    for sheet_name in workbook.sheet_names:
        data = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        if not data:
            sheets.append(Sheet(file=name, name=sheet_name, headers=[]))
            continue
        headers = [_clean_header(h) for h in data[0]]
        sheet = Sheet(file=name, name=sheet_name, headers=headers)
        for number, cells in enumerate(data[1:], start=2):
            if not any(c not in ("", None) for c in cells):
                continue
            sheet.rows.append((number, {h: cells[i] for i, h in enumerate(headers) if h and i < len(cells)}))
        sheets.append(sheet)
    return sheets


def read_tables(path: Path, *, display_name: str | None = None, bound: Limits | None = None) -> list[Sheet]:
    """Every table in a file (one for CSV, one per sheet for .xlsx), refused (``ValidationFailed``) when it is
    larger than ``bound`` (default: settings ``FILE_MAX_*``, ``core.filelimits``)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [read_csv(path, display_name=display_name, bound=bound)]
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, display_name=display_name, bound=bound)
    raise ValidationFailed(f"{display_name or path.name}：不支持的文件类型“{suffix}”，请使用 .xlsx 或 .csv")


def column_label(position: int, *, excel: bool) -> str:
    """Column ``position`` (0-based) as the user finds it: its letter in Excel (A … Z, AA …), else its number."""
    if not excel:
        return str(position + 1)
    letters, n = "", position + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def repeated_header(file: str, sheet: str, header: str, headers: list, positions: list[int]) -> Problem:
    """One field given by two or more columns: which holds the right values cannot be guessed (a corrected copy
    beside the old column is the usual case), so the file is refused naming every one of them."""
    where = "、".join(column_label(p, excel=bool(sheet)) for p in positions)
    where = f"{where} 列" if sheet else f"第 {where} 列"
    shown = "、".join(dict.fromkeys(str(headers[p]).strip() for p in positions))
    return Problem(
        file, sheet, 1, header, shown, f"这一列出现了 {len(positions)} 次（{where}），请只保留一列"
    )


def repeated_headers(sheet: Sheet, canonical: Callable[[str], str] = str) -> list[Problem]:
    """A problem for each field that more than one column of ``sheet`` gives (``canonical`` maps a header to
    the field it fills, aliases included); empty headers are not columns."""
    positions: dict[str, list[int]] = {}
    for position, header in enumerate(sheet.headers):
        if header:
            positions.setdefault(canonical(header), []).append(position)
    return [
        repeated_header(sheet.file, sheet.name, field_name, sheet.headers, found)
        for field_name, found in positions.items()
        if len(found) > 1
    ]


def missing_headers(sheet: Sheet, required: list[str]) -> list[Problem]:
    present = set(sheet.headers)
    return [
        Problem(sheet.file, sheet.name, 1, h, "", "缺少必需的列（表头）")
        for h in required
        if h not in present
    ]


# --- cell parsers: each returns the parsed value or raises CellError with a Chinese reason ----------------------


class CellError(ValueError):
    pass


def text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\u3000", " ").strip()


YES = {"是", "y", "yes", "1", "√", "true", "是的"}
NO = {"否", "n", "no", "0", "×", "x", "false"}


def yes_no(value: object) -> bool | None:
    """是/否 (also Y/N, 1/0, √/×); blank is None (not yet verified)."""
    if isinstance(value, bool):
        return value
    raw = text(value).lower()
    if raw == "":
        return None
    if raw in YES:
        return True
    if raw in NO:
        return False
    raise CellError("应填“是”或“否”")


_PLAIN_MONEY = re.compile(r"(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,2})?")
_CENT = Decimal("0.01")


def money(value: object, *, required: bool = False) -> Decimal | None:
    """Yuan: a number ≥ 0 with at most 2 decimals."""
    if type(value) is str and _PLAIN_MONEY.fullmatch(
        value
    ):  # "4620", "3600.5": the usual cell, checked at once
        return Decimal(value).quantize(_CENT)
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if required:
            raise CellError("必填，请填写金额（元），没有请填 0")
        return None
    try:
        amount = (
            Decimal(str(value).replace(",", "").strip())
            if not isinstance(value, float)
            else Decimal(repr(value))
        )
    except (InvalidOperation, ArithmeticError):
        raise CellError("应为金额数字（元）") from None
    if not amount.is_finite():
        raise CellError("应为金额数字（元）")
    if amount < 0:
        raise CellError("金额不能为负数")
    if amount >= Decimal("1e12"):
        raise CellError("金额过大，请核对单位（元）")
    if amount != amount.quantize(Decimal("0.01")):
        raise CellError("金额最多保留两位小数")
    return amount.quantize(Decimal("0.01"))


def calendar_date(value: object) -> date | None:
    """YYYY-MM-DD, YYYY/MM/DD or an Excel date; blank is None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise CellError("日期格式应为 YYYY-MM-DD")


def year_month(value: object) -> str | None:
    """YYYYMM (Excel may give a number or a date); blank is None."""
    if value in (None, ""):
        return None
    if isinstance(value, (datetime, date)):
        return f"{value.year:04d}{value.month:02d}"
    raw = text(value).replace("-", "").replace("/", "")
    if len(raw) == 6 and raw.isdigit() and 1 <= int(raw[4:]) <= 12 and 1900 <= int(raw[:4]) <= 2100:
        return raw
    raise CellError("年月格式应为 YYYYMM，例如 202405")


def iter_problems(problems: list[Problem]) -> Iterator[str]:
    for p in problems:
        yield str(p)
