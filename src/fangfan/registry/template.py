"""The downloadable household workbook template (户信息导入模板.xlsx, DATA-FORMATS §2).

Both sheets carry the fixed headers (required ones in red), a note on every header saying what goes there, ID,
phone and code columns formatted as text (so Excel never turns an ID number into 3.41523E+17), and drop-down
lists for the enumerated columns. The third sheet 填写说明 explains the rules and shows an example row of each
sheet — kept out of the data sheets so that an untouched example is never imported.
"""

from __future__ import annotations

import io

from fangfan.core.xlsx import TemplateFormats, workbook

from .formats import GUIDE_SHEET, HOUSEHOLD_COLUMNS, HOUSEHOLD_SHEET, MEMBER_COLUMNS, MEMBER_SHEET, Column

TEMPLATE_FILENAME = "户信息导入模板.xlsx"
DATA_ROWS = 20_000  # rows that get the text format and the drop-down lists
GUIDE = [
    "1. 本模板有“户信息”“成员信息”两张表：户信息每户一行，成员信息每人一行，用“户编号”对应。",
    "2. 表头文字不要修改（列的顺序可以调整）；红色表头为必填列。鼠标移到表头上可看到填写说明。",
    "3. 证件号码、联系电话、户编号、行政区划代码已设置为文本格式。从其他表格粘贴时请使用“选择性粘贴→数值”，"
    "否则 Excel 可能把18位证件号码变成 3.41523E+17 这样的数字，导入时会报错。",
    "4. 是/否列填“是”或“否”；尚未核实的请留空。金额以元为单位，不能为负数，最多两位小数，没有请填 0。",
    "5. 年月填 YYYYMM（如 202405）；脱贫户必须填写脱贫年度（四位年份）。",
    "6. 每户必须有且只有一名“户主”；同一证件号码在全系统只能出现一次。",
    "7. 导入前可先勾选“试导入”检查：有任何错误时不会写入任何数据，并列出每处错误所在的表、行、列和原因。",
    "8. 同一文件重复导入不会重复建档：已有的户按户编号、成员按证件号码更新；文件中没有的户和成员不会被删除。",
]


def _example(column: Column) -> str:
    return column.example


def households_template() -> bytes:
    """The template workbook as bytes (.xlsx)."""
    buffer = io.BytesIO()
    book = workbook(buffer, in_memory=True)
    formats = TemplateFormats(book)
    head, head_required, as_text = formats.head, formats.head_required, formats.as_text
    plain = book.add_format({})
    for sheet_name, columns in ((HOUSEHOLD_SHEET, HOUSEHOLD_COLUMNS), (MEMBER_SHEET, MEMBER_COLUMNS)):
        ws = book.add_worksheet(sheet_name)
        ws.freeze_panes(1, 0)
        ws.set_row(0, 32)
        for col, column in enumerate(columns):
            width = max(10, min(28, len(column.header) * 2 + 4))
            ws.set_column(col, col, width, as_text if column.text_format else plain)
            ws.write_string(0, col, column.header, head_required if column.required else head)
            note = ("【必填】" if column.required else "【选填】") + (column.note or "")
            if column.choices:
                note += f"\n可选：{'、'.join(column.choices)}"
            ws.write_comment(0, col, note, {"x_scale": 2, "y_scale": 1.6})
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
                        # 健康状况 may hold several values joined by 、: only warn there.
                        "error_type": "warning" if column.header == "健康状况" else "stop",
                        "ignore_blank": True,
                    },
                )
    guide = book.add_worksheet(GUIDE_SHEET)
    title = book.add_format({"bold": True, "font_size": 14})
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    guide.set_column(0, 0, 110)
    guide.write_string(0, 0, "户信息导入模板 填写说明", title)
    row = 2
    for line in GUIDE:
        guide.write_string(row, 0, line, wrap)
        row += 1
    for label, columns in (
        ("“户信息”表示例（一行）", HOUSEHOLD_COLUMNS),
        ("“成员信息”表示例（一行）", MEMBER_COLUMNS),
    ):
        row += 1
        guide.write_string(row, 0, label, bold)
        row += 1
        # The example as a little table of its own, starting at column B so that column A keeps the prose width.
        for col, column in enumerate(columns, start=1):
            guide.write_string(row, col, column.header, head_required if column.required else head)
            guide.write_string(row + 1, col, _example(column))
        row += 2
    book.close()
    return buffer.getvalue()
