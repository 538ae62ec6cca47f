"""Helpers for the department-data and screening tests: department files, imports, and reading warnings."""

from __future__ import annotations

import csv
from pathlib import Path

import xlsxwriter

from fangfan.monitoring.department import department_import
from fangfan.monitoring.models import EarlyWarning


def write_csv(directory: Path, name: str, rows: list[dict], *, encoding: str = "utf-8-sig") -> Path:
    headers: list[str] = []
    for row in rows:
        for key in row:
            if key not in headers:
                headers.append(key)
    path = directory / name
    with path.open("w", newline="", encoding=encoding) as out:
        writer = csv.writer(out)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([row.get(h, "") for h in headers])
    return path


def write_xlsx(directory: Path, name: str, headers: list[str], rows: list[list]) -> Path:
    """An .xlsx where numbers stay numbers (to test the ID-as-number error)."""
    path = directory / name
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("数据")
    sheet.write_row(0, 0, headers)
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            if isinstance(value, (int, float)):
                sheet.write_number(i, j, value)
            else:
                sheet.write_string(i, j, str(value))
    workbook.close()
    return path


def import_rows(
    tmp_path: Path, source: str, rows: list[dict], *, actor=None, name: str | None = None, **kwargs
):
    path = write_csv(tmp_path, name or f"{source}.csv", rows)
    if actor is None:
        from conftest import operator

        actor = operator()
    return department_import(source=source, path=path, actor=actor, **kwargs)


def id_of(household, relation: str = "户主") -> str:
    member = household.members.get(relation=relation)
    return member.id_number


def warnings(household, rule: str | None = None):
    qs = EarlyWarning.objects.filter(household=household)
    if rule:
        qs = qs.filter(rule_code=rule)
    return list(qs.order_by("id"))


def rule_codes(household) -> set[str]:
    return set(EarlyWarning.objects.filter(household=household).values_list("rule_code", flat=True))
