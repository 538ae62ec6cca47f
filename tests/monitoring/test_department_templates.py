"""部门数据导入模板 (issue 17): each source's template carries what the household template does — a 填写说明
sheet, a note on every header, drop-down lists for the enumerated columns and one example row — and the importer
skips that example row, so the template re-imports without a problem about the example's cells."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import pytest
from conftest import VILLAGE
from factories import household
from monitoring.screening_support import id_of, write_xlsx
from python_calamine import CalamineWorkbook

from fangfan.core.errors import ValidationFailed
from fangfan.core.tabular import read_tables
from fangfan.monitoring.choices import Source
from fangfan.monitoring.department import SOURCE_COLUMNS, department_import, source_headers, template_export
from fangfan.monitoring.department.columns import parse_sheet, pick_sheet
from fangfan.monitoring.department.template import data_sheet_name

SOURCES = sorted(SOURCE_COLUMNS)


def _template(tmp_path, source: str):
    path = tmp_path / f"{source}.xlsx"
    with path.open("wb") as out:
        template_export(source=source, target=out)
    return path


@pytest.mark.parametrize("source", SOURCES)
def test_模板有填写说明_表头批注_下拉列表和一行示例(tmp_path, source):
    path = _template(tmp_path, source)
    book = CalamineWorkbook.from_path(str(path))
    label = Source(source).label
    assert book.sheet_names == [data_sheet_name(source), "填写说明"]  # the data first: the importer picks it
    assert data_sheet_name(source).startswith(label.split("（")[0])
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0] == source_headers(source)
    assert len(rows) == 2 and str(rows[1][0]).startswith("示例")  # one example row, marked
    columns = SOURCE_COLUMNS[source]
    assert all(rows[1][2 + i] == c.example for i, c in enumerate(columns)), "every column has an example"
    guide = [r[0] for r in book.get_sheet_by_index(1).to_python() if r and r[0]]
    assert guide[0] == f"{label}数据导入模板 填写说明" and len(guide) > 3
    with zipfile.ZipFile(path) as z:
        comments = "".join(z.read(n).decode() for n in z.namelist() if "comments" in n)
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    for column in columns:
        assert ("【必填】" if column.required else "【选填】") in comments
        for value in column.choices:
            assert value in comments  # the note names the choices…
    lists = re.findall(r'<dataValidation type="list".*?<formula1>"(.*?)"</formula1>', sheet, re.S)
    assert sorted(lists) == sorted(",".join(c.choices) for c in columns if c.choices)  # …and offers them
    # Said once: no line of the guide repeats a header's note.
    notes = {c.note for c in columns if c.note}
    assert not any(note in line for note in notes for line in guide)


@pytest.mark.parametrize("source", SOURCES)
def test_模板原样读回时示例行被跳过(tmp_path, source):
    """The template as downloaded, read back by the importer's reader: the example row raises no cell problem —
    it is skipped — and the file is refused only for having no data, with a message that says so."""
    path = _template(tmp_path, source)
    sheet = pick_sheet(read_tables(path, display_name=path.name), source)
    assert sheet.name == data_sheet_name(source)
    with pytest.raises(ValidationFailed, match="只有模板的示例行") as refused:
        parse_sheet(sheet, source)
    assert not refused.value.problems


def test_保留示例行并在下面填写的模板可以导入(users, tmp_path):
    home = household(VILLAGE, members=[("张三", date(1970, 5, 1), "户主")])
    template = (
        CalamineWorkbook.from_path(str(_template(tmp_path, "medical"))).get_sheet_by_index(0).to_python()
    )
    headers, example = template
    real = [id_of(home), "张三", "2026-03-05", "20000", "8000"]
    path = write_xlsx(tmp_path, "医保数据.xlsx", headers, [example, real])
    summary = department_import(source="medical", path=path, actor=users["department"])
    assert (summary.rows, summary.matched, summary.unmatched) == (1, 1, 0)  # the example is no row


def test_模板下载页面给出带说明的模板(client, users):
    client.force_login(users["department"])
    response = client.get("/department/template/?source=medical")
    assert response.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheet_names == ["医保数据", "填写说明"]
