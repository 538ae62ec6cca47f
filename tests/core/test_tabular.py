"""Where a column is, said the way the user finds it: Excel's letters, a CSV file's numbers."""

from __future__ import annotations

import pytest

from fangfan.core.tabular import Sheet, column_label, repeated_headers


@pytest.mark.parametrize(
    ("position", "excel", "label"),
    [(0, True, "A"), (25, True, "Z"), (26, True, "AA"), (51, True, "AZ"), (52, True, "BA"), (701, True, "ZZ"),
     (702, True, "AAA"), (0, False, "1"), (26, False, "27")],
)  # fmt: skip
def test_column_label(position, excel, label):
    assert column_label(position, excel=excel) == label


def test_repeated_headers_through_aliases_and_not_blank_ones():
    sheet = Sheet(file="a.xlsx", name="成员信息", headers=["身份证号", "", "姓名", "证件号码", "", "姓名"])
    alias = {"身份证号": "证件号码"}
    problems = repeated_headers(sheet, lambda h: alias.get(h, h))
    assert [str(p) for p in problems] == [
        "a.xlsx 工作表“成员信息” 第1行 列“证件号码”（值：身份证号、证件号码）：这一列出现了 2 次（A、D 列），请只保留一列",
        "a.xlsx 工作表“成员信息” 第1行 列“姓名”（值：姓名）：这一列出现了 2 次（C、F 列），请只保留一列",
    ]
    assert repeated_headers(Sheet(file="b.csv", name="", headers=["x", "", ""])) == []
