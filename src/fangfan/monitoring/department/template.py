"""A department's import template (one per source, DATA-FORMATS §3), built like the household template
(``registry.template``): the data sheet first — fixed headers (required ones in red), a note on every header
saying what goes there, the 证件号码 column formatted as text, drop-down lists for the enumerated columns, and one
example row (row 2, its 证件号码 starting with ``示例``, which the importer skips) — then a 填写说明 sheet with the
rules that hold for every column. Each thing is said once: a column's own rule in its header's note, the general
rules in 填写说明, the example only in the data sheet."""

from __future__ import annotations

import re
from typing import IO

from fangfan.core.xlsx import TemplateFormats, workbook

from .columns import EXAMPLE_MARK, ID_ALIASES, ID_HEADER, NAME_HEADER, SOURCE_COLUMNS, Column, source_label

GUIDE_SHEET = "填写说明"
DATA_ROWS = 20_000  # rows that get the text format and the drop-down lists
EXAMPLE_ID = "341523197001011234"  # the example's number, after the mark: never a registered person's
EXAMPLE_NAME = "张三"


def data_sheet_name(source: str) -> str:
    """The data sheet's name: the source's label, without the characters Excel refuses in a sheet name (比对排除's
    label has slashes), at most 31 characters."""
    return re.sub(r"[\[\]:*?/\\]", "、", f"{source_label(source)}数据")[:31]


def guide_lines(source: str) -> list[str]:
    label = source_label(source)
    return [
        f"1. 第一张表“{label}数据”每人每条记录一行。第 2 行是示例，导入时自动跳过；请从第 3 行起填写，"
        "也可以直接覆盖示例行。",
        "2. 表头文字不要修改（列的顺序可以调整，可增加其他列，系统只保留本模板的列）；红色表头为必填列。"
        "鼠标移到表头上可看到该列的填写要求和可选值，有可选值的列可从下拉列表选择。",
        f"3. {ID_HEADER}已设置为文本格式，也可用“{'”“'.join(ID_ALIASES[:2])}”作表头。从其他表格粘贴时请使用"
        "“选择性粘贴→数值”，否则 Excel 可能把 18 位号码变成 3.41523E+17 这样的数字，导入时会报错。",
        "4. 导入时逐行检查，有任何错误时不会写入任何数据，并列出每处错误所在的行、列和原因；"
        "内容完全相同的文件不会重复导入。",
        "5. 系统中查不到的人员不会丢弃：导入后可下载“未匹配人员”清单（含原文件行号和原因）核对。",
    ]


def _note(column: Column) -> str:
    note = "【必填】" if column.required else "【选填】"
    if column.note:
        note += column.note
    if column.choices:
        note += ("；" if column.note else "") + f"可选：{'、'.join(column.choices)}"
    return note


def template_write(*, source: str, target: str | IO[bytes]) -> None:
    """Write the template of ``source`` (.xlsx) to ``target``."""
    columns = SOURCE_COLUMNS[source]
    book = workbook(target)
    formats = TemplateFormats(book)
    head, head_required, as_text = formats.head, formats.head_required, formats.as_text
    example = book.add_format({"font_color": "#808080", "italic": True, "num_format": 49})
    ws = book.add_worksheet(data_sheet_name(source))
    ws.freeze_panes(1, 0)
    ws.set_row(0, 32)
    fixed = [
        (ID_HEADER, True, "18 位身份证号码（或 20 位残疾人证号）", f"{EXAMPLE_MARK}{EXAMPLE_ID}"),
        (NAME_HEADER, False, "与证件一致；与系统登记不一致的会被标出核对", EXAMPLE_NAME),
    ]
    for col, (header, required, note, value) in enumerate(fixed):
        ws.set_column(col, col, 24 if col == 0 else 12, as_text if col == 0 else None)
        ws.write_string(0, col, header, head_required if required else head)
        ws.write_comment(
            0, col, ("【必填】" if required else "【选填】") + note, {"x_scale": 2, "y_scale": 1.4}
        )
        ws.write_string(1, col, value, example)
    for col, column in enumerate(columns, start=len(fixed)):
        ws.set_column(col, col, max(12, min(28, len(column.header) * 2 + 6)))
        ws.write_string(0, col, column.header, head_required if column.required else head)
        ws.write_comment(0, col, _note(column), {"x_scale": 2, "y_scale": 1.4})
        ws.write_string(1, col, column.example, example)
        if column.choices:
            ws.data_validation(
                1,
                col,
                DATA_ROWS,
                col,
                {
                    "validate": "list",
                    "source": list(column.choices),
                    "error_title": column.header,
                    "error_message": f"请从下拉列表中选择：{'、'.join(column.choices)}"[:255],
                    "error_type": "stop",
                    "ignore_blank": True,
                },
            )
    guide = book.add_worksheet(GUIDE_SHEET)
    guide.set_column(0, 0, 110)
    guide.write_string(
        0, 0, f"{source_label(source)}数据导入模板 填写说明", book.add_format({"bold": True, "font_size": 14})
    )
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    for row, line in enumerate(guide_lines(source), start=2):
        guide.write_string(row, 0, line, wrap)
    book.close()
