"""Reading the spreadsheets township staff move data in: .xlsx (python-calamine) and .csv (UTF-8 with or
without BOM, or GB18030 as Chinese Excel saves it), every file bounded first (``core.filelimits``). One reading layer:
``read_raw_tables`` gives plain lists (``Table``: the household importer reads a county's 850 000 rows this way), and
``read_tables`` the same rows as dicts keyed by the trimmed header (``Sheet``: department data, regions, accounts).
Every problem is reported with file, sheet, row, column, value and reason (spec/DATA-FORMATS.md, common rules).
The cell parsers are in ``core.cells``."""

from __future__ import annotations

import csv
import io
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from .cells import text
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
        value = f"（值：{shown_value(self.value)}）" if self.value not in ("", None) else ""
        return f"{where}{value}：{self.reason}"


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
SHOWN_VALUE_CHARS = 50


def shown_value(value: object) -> str:
    """A cell's value as a problem quotes it: on one line (a line break or control character in the cell shows as
    "?", so that one problem stays one line of a list, a log or the terminal) and at most 50 characters."""
    shown = _UNPRINTABLE.sub("?", str(value))
    return shown if len(shown) <= SHOWN_VALUE_CHARS else shown[:SHOWN_VALUE_CHARS] + "…"


@dataclass
class Sheet:
    """A table read from a file: header names and rows as dicts keyed by the trimmed header, with row numbers
    as a person sees them in Excel (the header is row 1)."""

    file: str
    name: str
    headers: list[str]
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)


class Lines:
    """A CSV file's data rows not yet split into cells: a file with no quote character and no lone carriage return,
    whose every line is one row and whose cells are what lies between the commas (exactly what ``csv.reader``
    would give). The importing process reads a county's member file (850 000 rows of 19 cells) this way and splits
    only the column it cuts the file by; each slice goes to its worker process as one string, split there. Split in
    the importing process instead, the 16 million cells were copied into each worker page by page as it touched
    them (fork's copy-on-write: ≈ 2.3 s of system time in each worker, ≈ 1 GB more memory)."""

    __slots__ = ("blob", "lines", "numbers")

    def __init__(self, numbers: array, *, lines: list[str] | None = None, blob: str | None = None):
        self.numbers = numbers  # each row's number as the file shows it (the header is row 1)
        self.lines = lines
        self.blob = blob  # the rows joined by "\n": one object to hand to a worker process

    def all_lines(self) -> list[str]:
        if self.lines is None:
            assert self.blob is not None
            self.lines = self.blob.split("\n") if self.numbers else []
            self.blob = None
        return self.lines

    def cells(self, width: int) -> list[tuple[int, list]]:
        pad = [""] * width
        rows: list[tuple[int, list]] = []
        append = rows.append
        for number, line in zip(self.numbers, self.all_lines(), strict=True):
            cells = line.split(",")
            if len(cells) < width:
                cells += pad[len(cells) :]
            append((number, cells))
        return rows

    def column(self, position: int) -> list[str]:
        out: list[str] = []
        append = out.append
        for line in self.all_lines():
            parts = line.split(",", position + 1)
            append(parts[position] if len(parts) > position else "")
        return out

    def pick(self, picks: list[int]) -> Lines:
        lines = self.all_lines()
        return Lines(array("l", [self.numbers[k] for k in picks]), blob="\n".join([lines[k] for k in picks]))


@dataclass
class Table:
    """A table read from a file as plain lists: the headers, and each row's number as Excel shows it (the header
    is row 1) with its cells, padded to the headers' width. ``kind``, ``index``, ``ignored`` and ``repeated`` are
    for the reader that maps the headers to its fields."""

    file: str
    sheet: str  # the sheet name of an .xlsx; "" for a CSV file
    headers: list[str]
    # (row number as Excel shows it, cells); None while ``lines`` hold the rows
    parsed: list[tuple[int, list]] | None
    kind: str = ""  # "household" / "member"
    index: dict[str, int] = field(default_factory=dict)  # our header → column position
    ignored: list[str] = field(default_factory=list)
    # our header → every column position it was found at, where it was found more than once
    repeated: dict[str, list[int]] = field(default_factory=dict)
    lines: Lines | None = None
    _columns: list[tuple] | None = None

    @property
    def rows(self) -> list[tuple[int, list]]:
        if self.parsed is None:
            assert self.lines is not None
            self.parsed = self.lines.cells(len(self.headers))
            self.lines = None
        return self.parsed

    @property
    def count(self) -> int:
        if self.parsed is not None:
            return len(self.parsed)
        assert self.lines is not None
        return len(self.lines.numbers)

    def columns(self) -> list[tuple]:
        """The cells column by column (one transposition, in C), each as long as ``rows``."""
        if self._columns is None:
            width = len(self.headers)
            rows = self.rows
            self._columns = list(zip(*[cells for _row, cells in rows], strict=False)) if rows else []
            if (
                len(self._columns) < width
            ):  # no row reaches the last header (xlsx rows are cut at the last cell)
                self._columns += [("",) * len(rows)] * (width - len(self._columns))
        return self._columns

    def column(self, position: int) -> list:
        """One column's cells, without transposing the whole table (the importing process needs two columns of a
        county's file before cutting it into slices; each slice transposes its own rows)."""
        if self._columns is not None:
            return list(self._columns[position])
        if self.parsed is None:
            assert self.lines is not None
            return self.lines.column(position)
        pick = itemgetter(position)
        return [pick(cells) for _row, cells in self.parsed]


def decode_csv(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(
        f"{name}：文件既不是 UTF-8 也不是 GB18030 编码的 CSV，请用 Excel 另存为“CSV UTF-8”后再导入"
    )


def read_csv_table(path: Path, name: str, bound: Limits | None = None) -> Table:
    """A CSV file as a ``Table``: a file without quotes kept as lines (``Lines``), split where it is used."""
    bound = bound or limits()
    check_csv(path, name, bound)
    content = decode_csv(path.read_bytes(), name)
    check_csv_text(content, name, bound)
    if "\x00" in content:
        raise ValidationFailed(
            f"{name}：文件中含有空字符（NUL），不是正常的 CSV 文件，请用 Excel 另存为 CSV 后再导入"
        )
    lines = plain_lines(content)
    if lines is not None:
        headers = next(csv.reader(lines[:1]))
        check_csv_row(name, 1, len(headers), bound)
        numbers = array("l")
        kept = []
        for number, line in enumerate(lines[1:], start=2):
            if line.replace(",", "").strip():  # a row of empty cells is no row (as below)
                numbers.append(number)
                kept.append(line)
        del lines
        return Table(
            file=name,
            sheet="",
            headers=[str(h).strip() for h in headers],
            parsed=None,
            lines=Lines(numbers, lines=kept),
        )
    reader = csv.reader(io.StringIO(content))
    rows: list[tuple[int, list]] = []
    append = rows.append
    try:
        first: list[str] | None = next(reader, None)
        if first is None:
            raise ValidationFailed(f"{name}：文件是空的")
        headers = first
        width = len(headers)
        check_csv_row(name, 1, width, bound)
        for number, cells in enumerate(reader, start=2):
            check_csv_row(name, number, len(cells), bound)
            if not "".join(cells).strip():
                continue
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            append((number, cells))
    except csv.Error as exc:
        raise ValidationFailed(f"{name}：第{reader.line_num}行不是正确的 CSV 格式（{exc}）") from None
    return Table(file=name, sheet="", headers=[str(h).strip() for h in headers], parsed=rows)


def plain_lines(content: str) -> list[str] | None:
    """The lines of a CSV text in which a line is a row and a comma separates cells — no quote character, no
    carriage return but before a line feed, a header line that is not empty — else None (``csv.reader`` reads it)."""
    if '"' in content:
        return None
    if "\r" in content:
        content = content.replace("\r\n", "\n")
        if "\r" in content:
            return None
    lines = content.split("\n")
    if not lines[0].strip():
        return None
    return lines


def read_xlsx_tables(path: Path, name: str, bound: Limits | None = None) -> list[Table]:
    """Every sheet of an .xlsx as a ``Table``; the header is a sheet's first row that is not empty."""
    from python_calamine import CalamineWorkbook

    # Before calamine allocates: it sizes a sheet by its cells' positions (a 5 KB file can ask for 550 GB).
    check_xlsx(path, name, bound or limits())
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise ValidationFailed(
            f"{name}：无法读取 Excel 文件（{type(exc).__name__}），请确认它是 .xlsx 格式"
        ) from exc
    tables = []
    for sheet_name in workbook.sheet_names:
        try:
            data = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        except Exception as exc:  # a damaged sheet (bad XML, a part longer than declared): the file, not us
            raise ValidationFailed(
                f"{name} 工作表“{shown_value(sheet_name)}”：无法读取（{type(exc).__name__}），文件可能已损坏；"
                "请在 Excel 中打开并另存为 .xlsx 后重新导入，未导入任何数据"
            ) from exc
        start = next((i for i, r in enumerate(data) if any(c not in ("", None) for c in r)), None)
        if start is None:
            tables.append(Table(file=name, sheet=sheet_name.strip(), headers=[], parsed=[]))
            continue
        headers = [text(h) for h in data[start]]
        width = len(headers)
        rows = []
        for i in range(start + 1, len(data)):
            cells = data[i]
            if not any(c not in ("", None) for c in cells):
                continue
            if len(cells) < width:
                cells = list(cells) + [""] * (width - len(cells))
            rows.append((i + 1, cells))
        tables.append(Table(file=name, sheet=sheet_name.strip(), headers=headers, parsed=rows))
    return tables


def read_raw_tables(
    path: Path, *, display_name: str | None = None, bound: Limits | None = None
) -> list[Table]:
    """Every table in a file as plain lists (one for CSV, one per sheet for .xlsx), refused (``ValidationFailed``)
    when it is larger than ``bound`` (default: settings ``FILE_MAX_*``, ``core.filelimits``)."""
    name = display_name or path.name
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [read_csv_table(path, name, bound)]
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx_tables(path, name, bound)
    raise ValidationFailed(f"{name}：不支持的文件类型“{suffix}”，请使用 .xlsx 或 .csv")


def read_tables(path: Path, *, display_name: str | None = None, bound: Limits | None = None) -> list[Sheet]:
    """Every table in a file with its rows as dicts keyed by the trimmed header (``Sheet``); bounded like
    ``read_raw_tables``."""
    return [_as_sheet(table) for table in read_raw_tables(path, display_name=display_name, bound=bound)]


def _as_sheet(table: Table) -> Sheet:
    headers = [h.strip() for h in table.headers]
    named = [(i, h) for i, h in enumerate(headers) if h]
    return Sheet(
        file=table.file,
        name=table.sheet,
        headers=headers,
        rows=[(number, {h: cells[i] for i, h in named}) for number, cells in table.rows],
    )


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


def iter_problems(problems: list[Problem]) -> Iterator[str]:
    for p in problems:
        yield str(p)
