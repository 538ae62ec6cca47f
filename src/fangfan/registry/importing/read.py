"""Reading the household workbook: an .xlsx, one CSV file or a folder of them, through ``core.tabular``'s
list-based reader (bounded by ``core.filelimits``), each table classified; and cutting a table into slices."""

from __future__ import annotations

from pathlib import Path

from fangfan.core.errors import ValidationFailed
from fangfan.core.tabular import Table, read_raw_tables, repeated_header

from .. import formats
from .cells import CellChecks
from .layout import classify


def read_sources(path: Path, display_name: str | None) -> list[Table]:
    """The tables of an .xlsx or CSV file, or of every CSV file in a folder."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
        if not files:
            raise ValidationFailed(
                f"{display_name or path.name}：文件夹中没有 CSV 文件（应有 户信息.csv 和 成员信息.csv）"
            )
        return [table for p in files for table in read_raw_tables(p, display_name=p.name)]
    return read_raw_tables(path, display_name=display_name or path.name)


def size(table: Table | None) -> int:
    return table.count if table is not None else 0


def subtable(table: Table | None, picks: list[int]) -> Table | None:
    if table is None:
        return None
    if len(picks) == table.count:
        return table
    if table.parsed is None:  # a worker splits its own rows (``Lines``)
        parsed, lines = None, table.lines.pick(picks)
    else:
        parsed, lines = [table.parsed[k] for k in picks], None
    return Table(
        file=table.file,
        sheet=table.sheet,
        headers=table.headers,
        parsed=parsed,
        kind=table.kind,
        index=table.index,
        ignored=table.ignored,
        lines=lines,
    )


class Reading(CellChecks):
    path: Path

    def read(self) -> tuple[Table | None, Table | None]:
        tables = read_sources(self.path, self.name)
        found: dict[str, Table] = {}
        for table in tables:
            classify(table)
            if not table.kind:
                continue
            if table.kind in found:
                other = found[table.kind]
                label = formats.HOUSEHOLD_SHEET if table.kind == "household" else formats.MEMBER_SHEET
                raise ValidationFailed(
                    f"{self.name}：找到两张“{label}”表（{other.sheet or other.file}、{table.sheet or table.file}），请只保留一张"
                )
            found[table.kind] = table
        if not found:
            raise ValidationFailed(
                f"{self.name}：没有找到“{formats.HOUSEHOLD_SHEET}”或“{formats.MEMBER_SHEET}”表"
                "（工作表名或 CSV 文件名应为 户信息 / 成员信息）"
            )
        for kind, table in found.items():
            columns = formats.HOUSEHOLD_COLUMNS if kind == "household" else formats.MEMBER_COLUMNS
            for column in columns:
                if column.required and column.header not in table.index:
                    self.problem(table, 1, column.header, "", "缺少必需的列（表头）")
            # Two columns for one field: neither is taken (tabular.repeated_header).
            for header, positions in table.repeated.items():
                self.problems.append(
                    repeated_header(table.file, table.sheet, header, table.headers, positions)
                )
        self.fail_if_problems()
        if not any(table.count for table in found.values()):
            raise ValidationFailed(
                f"{self.name}：没有数据行（只有表头或是空的），未导入任何数据；请在表头下填写农户和成员后再导入"
            )
        return found.get("household"), found.get("member")
