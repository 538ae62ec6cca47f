"""Security issue 16.1: every spreadsheet reader refuses a file it could not hold, before allocating for it.

The attack file (a header and one cell at XFD1048576) is never given to python-calamine unbounded here: calamine
sizes the sheet from that position (16 384 × 1 048 576 cells, ≈ 550 GB) and aborts the whole test process. Before
the bounds, ``tabular.read_xlsx`` and ``importer._read_xlsx`` handed the path straight to
``CalamineWorkbook.from_path(...).get_sheet_by_name(...).to_python()`` — the tests below would have killed the
process instead of seeing a ``ValidationFailed``.
"""

from __future__ import annotations

import re
import resource
import zipfile
from pathlib import Path

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangfan.core import filelimits
from fangfan.core.errors import ValidationFailed
from fangfan.core.tabular import read_tables
from fangfan.registry.importing.read import read_sources
from tests.xlsx_craft import attack_workbook, cell, sheet_xml, workbook

CHINESE = re.compile(r"[\u4e00-\u9fff]")
READERS = {
    "tabular": lambda path: read_tables(path, display_name=path.name),  # departments, regions
    "households": lambda path: read_sources(path, path.name),  # the household importer (lists)
}


@pytest.mark.parametrize("reader", READERS)
def test_the_attack_workbook_is_refused_in_chinese(tmp_path, reader):
    path = attack_workbook(tmp_path / "部门数据.xlsx")
    assert path.stat().st_size < 5000
    with pytest.raises(ValidationFailed) as refused:
        READERS[reader](path)
    assert refused.value.message.startswith("文件过大：部门数据.xlsx 工作表")
    assert "1048576 行、16384 列" in refused.value.message


@pytest.mark.parametrize("reader", READERS)
def test_a_far_cell_without_dimension_is_refused(tmp_path, reader):
    rows = ['<row r="1">' + cell("A1", "证件号码") + "</row>", '<row r="3">' + cell("XFD3", "x") + "</row>"]
    path = workbook(tmp_path / "a.xlsx", {"成员信息": sheet_xml(rows)})
    with pytest.raises(ValidationFailed, match="文件过大"):
        READERS[reader](path)


@pytest.mark.parametrize("reader", READERS)
def test_rows_times_columns_beyond_the_cells_limit_are_refused(tmp_path, reader):
    rows = ['<row r="1">' + cell("A1", "证件号码") + cell("CV1", "备注") + "</row>"]
    rows.append('<row r="900000">' + cell("A900000", "x") + "</row>")
    path = workbook(tmp_path / "a.xlsx", {"成员信息": sheet_xml(rows)})
    with pytest.raises(ValidationFailed, match="单元格"):
        READERS[reader](path)


@pytest.mark.parametrize("reader", READERS)
def test_cells_without_positions_count_on(tmp_path, reader):
    """A row of 20 000 empty cells without references puts the last one in column 20 001."""
    rows = "<row>" + "<c/>" * 20_000 + '<c t="inlineStr"><is><t>x</t></is></c></row>'
    path = workbook(tmp_path / "a.xlsx", {"Sheet1": sheet_xml(rows)})
    with pytest.raises(ValidationFailed, match="文件过大"):
        READERS[reader](path)


@pytest.mark.parametrize("reader", READERS)
def test_a_zip_bomb_is_refused(tmp_path, reader):
    rows = '<row r="1">' + cell("A1", "证件号码") + "</row>" + " " * 3_000_000
    path = workbook(tmp_path / "a.xlsx", {"Sheet1": sheet_xml(rows)})
    assert path.stat().st_size < 100_000
    with (
        override_settings(FILE_MAX_UNZIPPED_BYTES=2_000_000),
        pytest.raises(ValidationFailed, match="解压后超过"),
    ):
        READERS[reader](path)


@pytest.mark.parametrize("reader", READERS)
def test_too_many_sheets_are_refused(tmp_path, reader):
    sheets = {f"表{i}": sheet_xml(['<row r="1">' + cell("A1", "x") + "</row>"]) for i in range(4)}
    path = workbook(tmp_path / "a.xlsx", sheets)
    with override_settings(FILE_MAX_SHEETS=3), pytest.raises(ValidationFailed, match="4 张工作表"):
        READERS[reader](path)


@pytest.mark.parametrize("reader", READERS)
def test_csv_bounds(tmp_path, reader):
    path = tmp_path / "a.csv"
    path.write_text("证件号码,姓名\n" + "1,2\n" * 50, encoding="utf-8")
    with override_settings(FILE_MAX_ROWS=20), pytest.raises(ValidationFailed, match="文件过大"):
        READERS[reader](path)
    path.write_text("证件号码," + ",".join(f"c{i}" for i in range(30)) + "\n1\n", encoding="utf-8")
    with override_settings(FILE_MAX_COLUMNS=10), pytest.raises(ValidationFailed, match="31 列"):
        READERS[reader](path)
    with override_settings(FILE_MAX_BYTES=100), pytest.raises(ValidationFailed, match="最多允许"):
        READERS[reader](path)


@pytest.mark.parametrize("reader", READERS)
def test_an_ordinary_workbook_is_read(tmp_path, reader):
    rows = [
        '<row r="1" spans="1:2">' + cell("A1", "证件号码") + cell("B1", "姓名") + "</row>",
        '<row r="2" spans="1:2">' + cell("A2", "110101199003070000") + cell("B2", "张三") + "</row>",
    ]
    path = workbook(tmp_path / "a.xlsx", {"成员信息": sheet_xml(rows, "A1:B2")})
    tables = READERS[reader](path)
    assert tables[0].headers == ["证件号码", "姓名"]


def test_the_rows_bound_rounds_up_to_the_next_leading_digit():
    assert filelimits._rows_bound(850_001) == 899_999
    assert filelimits._rows_bound(9_000) == 9_999
    assert filelimits._rows_bound(1) == 1
    pattern = filelimits._beyond(850_001, 20)
    assert pattern.search(b'<c r="A899999"') is None
    assert pattern.search(b'<c r="A900000"')
    assert pattern.search(b'<c r="a1000000"')
    assert pattern.search(b'<c r="U5"') and not pattern.search(b'<c r="T5"')
    assert pattern.search(b'<row r="1000000">')


# --- the fuzz test: generated dimensions, positions, garbage ------------------------------------------------------

SMALL = {
    "FILE_MAX_ROWS": 2000,
    "FILE_MAX_COLUMNS": 60,
    "FILE_MAX_CELLS": 50_000,
    "FILE_MAX_UNZIPPED_BYTES": 4_000_000,
}
positions = st.tuples(st.integers(1, 16_384), st.integers(1, 1_048_576))
small_positions = st.tuples(st.integers(1, 80), st.integers(1, 3000))


@st.composite
def crafted(draw) -> tuple[bytes, str]:
    """An .xlsx (sometimes truncated or with bytes changed), or garbage; and its file name."""
    cells = draw(st.lists(st.one_of(positions, small_positions), max_size=12))
    dimension = None
    if draw(st.booleans()):
        (c1, r1), (c2, r2) = (
            draw(st.one_of(positions, small_positions)),
            draw(st.one_of(positions, small_positions)),
        )
        dimension = f"A1:{filelimits.column_letters(max(c1, c2))}{max(r1, r2)}"
    rows = ['<row r="1">' + cell("A1", "证件号码") + cell("B1", "姓名") + "</row>"]
    for col, row in sorted(cells, key=lambda p: p[1]):
        ref = f"{filelimits.column_letters(col)}{row}"
        rows.append(f'<row r="{row}">' + cell(ref, "x") + "</row>")
    if draw(st.booleans()):  # cells without references
        rows.append(
            "<row>" + "<c/>" * draw(st.integers(0, 120)) + '<c t="inlineStr"><is><t>y</t></is></c></row>'
        )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        data = workbook(Path(tmp) / "f.xlsx", {"成员信息": sheet_xml(rows, dimension)}).read_bytes()
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip", "garbage", "csv"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "flip":
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    elif damage == "garbage":
        data = draw(st.binary(max_size=2000))
    elif damage == "csv":
        return draw(st.binary(max_size=2000)), "f.csv"
    return data, "f.xlsx"


@pytest.mark.parametrize("reader", READERS)
@override_settings(**SMALL)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=crafted())
def test_fuzz_every_reader_refuses_in_chinese_or_reads_within_bounds(tmp_path, reader, case):
    data, name = case
    path = tmp_path / name
    path.write_bytes(data)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB, the process's peak so far
    try:
        tables = READERS[reader](path)
    except ValidationFailed as exc:
        assert CHINESE.search(exc.message), exc.message
    else:
        for table in tables:
            assert len(table.headers) <= SMALL["FILE_MAX_COLUMNS"]
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < 300 * 1024, f"peak memory grew by {grown // 1024} MB"


def test_fuzz_helper_makes_real_workbooks(tmp_path):
    path = workbook(tmp_path / "a.xlsx", {"x": sheet_xml(['<row r="1">' + cell("A1", "a") + "</row>"])})
    assert zipfile.is_zipfile(path)


@pytest.mark.parametrize("reader", READERS)
def test_a_damaged_sheet_is_refused_in_chinese(tmp_path, reader):
    """Found by the importer fuzzer (issue 21.2): a workbook whose package opens but whose sheet XML is broken
    made calamine raise XmlError out of ``to_python`` — a traceback instead of a refusal."""
    rows = [
        '<row r="1">' + cell("A1", "证件号码") + "</row>",
        '<row r="2"><c r="A2" t="inlineStr"><is><t>x</is></row>',
    ]
    path = workbook(tmp_path / "坏表.xlsx", {"成员信息": sheet_xml(rows)})
    with pytest.raises(ValidationFailed) as refused:
        READERS[reader](path)
    assert refused.value.message.startswith("坏表.xlsx 工作表“成员信息”：无法读取")
