"""Exporting 农户清单 (DATA-FORMATS §4): the columns exactly as the contract names them, phones and ID numbers masked
unless asked for and allowed, the user's jurisdiction only, every export audited; and ``fangfan export``."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest
from conftest import TOWN, operator
from django.core.management import call_command
from django.core.management.base import CommandError
from python_calamine import CalamineWorkbook

sys.path.insert(0, str(Path(__file__).parent))
import test_import  # noqa: E402
from test_import import H1, H2, HEAD_ID, sample, write_xlsx  # noqa: E402

from fangfan.core.errors import DomainError
from fangfan.core.masking import mask_phone
from fangfan.core.models import AuditEvent
from fangfan.registry.exporter import households_export
from fangfan.registry.importing.households import households_import

pytestmark = pytest.mark.django_db
people = test_import.people

# DATA-FORMATS §4, 农户清单: every column of sheet 户信息, then the derived figures — spelled out, not imported.
EXPORT_COLUMNS = [
    "户编号",
    "行政区划代码",
    "户类型",
    "脱贫年度",
    "脱贫户分类",
    "监测对象类型",
    "监测状态",
    "识别监测时间",
    "风险消除时间",
    "分类定级",
    "联系电话",
    "工资性收入",
    "生产经营性收入",
    "生产经营性支出",
    "财产性收入",
    "转移性收入",
    "合规自付支出",
    "吃穿不愁",
    "住房安全等级",
    "饮水安全",
    "户主姓名",
    "家庭人口",
    "家庭纯收入",
    "年人均纯收入",
    "系统建议分类",
    "建议理由",
    "乡镇",  # after the fixed columns: where the household lives, by name
    "村",
]


@pytest.fixture
def imported(tmp_path, regions, people):
    households, members = sample()
    households_import(
        path=write_xlsx(tmp_path / "in.xlsx", households, members), actor=people["village_clerk"]
    )
    return people


def _sheet(path: Path, name: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def test_xlsx_columns_match_the_contract_and_phone_is_masked(tmp_path, imported):
    path = tmp_path / "out.xlsx"
    summary = households_export(actor=imported["village_clerk"], path=path)
    assert summary.households == 2
    rows = _sheet(path, "农户清单")
    assert rows[0] == EXPORT_COLUMNS
    by_number = {r[0]: dict(zip(EXPORT_COLUMNS, r, strict=True)) for r in rows[1:]}
    h1 = by_number[H1]
    assert (
        h1["行政区划代码"] == "341523104201" and h1["户类型"] == "脱贫户" and h1["脱贫户分类"] == "享受政策"
    )
    assert h1["联系电话"] == "138****8000"
    assert h1["户主姓名"] == "张三" and h1["家庭人口"] == 3 and h1["年人均纯收入"] == 10633.5
    assert h1["家庭纯收入"] == 31900.5 and h1["系统建议分类"] == "享受政策" and h1["建议理由"]
    assert h1["吃穿不愁"] == "是" and h1["住房安全等级"] == "B"
    assert by_number[H2]["户类型"] == "一般农户"
    assert (h1["乡镇"], h1["村"]) == ("桃溪镇", "东风村")
    event = AuditEvent.objects.get(action="household.exported")
    assert event.after["households"] == 2 and event.after["reveal_ids"] is False


def test_csv_is_utf8_with_bom_and_same_columns(tmp_path, imported):
    path = tmp_path / "out.csv"
    households_export(actor=imported["village_clerk"], path=path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == EXPORT_COLUMNS
    assert "138****8000" in raw.decode("utf-8-sig") and "13800138000" not in raw.decode("utf-8-sig")


def test_csv_neutralises_formulas_but_keeps_numbers(tmp_path, imported):
    from fangfan.registry.models import Household

    Household.objects.filter(number=H1).update(head_name="@SUM(1+1)*cmd|' /C calc'!A0")
    path = tmp_path / "out.csv"
    households_export(actor=imported["village_clerk"], path=path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    h1 = next(r for r in rows if r["户编号"] == H1)
    assert h1["户主姓名"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert h1["年人均纯收入"] == "10633.50" and h1["家庭人口"] == "3"


def test_member_sheet_masks_ids_by_default(tmp_path, imported):
    path = tmp_path / "m.xlsx"
    summary = households_export(actor=imported["village_clerk"], path=path, members=True)
    assert summary.members == 4
    rows = _sheet(path, "成员信息")
    assert rows[0][:4] == ["户编号", "姓名", "证件号码", "与户主关系"]
    ids = [r[2] for r in rows[1:]]
    assert HEAD_ID not in ids and f"341523********{HEAD_ID[-4:]}" in ids


def test_revealing_ids_needs_the_permission_and_is_audited(tmp_path, imported):
    with pytest.raises(DomainError):
        households_export(
            actor=imported["village_clerk"], path=tmp_path / "x.xlsx", members=True, reveal_ids=True
        )
    path = tmp_path / "whole.xlsx"
    households_export(actor=imported["town_station"], path=path, members=True, reveal_ids=True)
    ids = [r[2] for r in _sheet(path, "成员信息")[1:]]
    assert HEAD_ID in ids
    assert _sheet(path, "农户清单")[1][10] in ("13800138000", "")
    event = AuditEvent.objects.filter(action="household.exported").latest("id")
    assert event.after["reveal_ids"] is True and event.actor == imported["town_station"]


def test_export_is_limited_to_the_jurisdiction(tmp_path, imported):
    assert households_export(actor=imported["neighbour_station"], path=tmp_path / "n.xlsx").households == 0
    assert households_export(actor=imported["other_village_clerk"], path=tmp_path / "o.xlsx").households == 0
    assert households_export(actor=imported["town_station"], path=tmp_path / "t.xlsx").households == 2


def test_list_filters_apply(tmp_path, imported):
    summary = households_export(
        actor=imported["village_clerk"], path=tmp_path / "f.csv", params={"household_type": "general"}
    )
    assert summary.households == 1
    assert H2 in (tmp_path / "f.csv").read_text(encoding="utf-8-sig")


def test_exported_list_reimports_without_changes(tmp_path, imported):
    """农户清单 read back as the 户信息 sheet (headers identify it; masked phones keep what is stored)."""
    path = tmp_path / "back.xlsx"
    households_export(actor=imported["village_clerk"], path=path)
    before = AuditEvent.objects.count()
    summary = households_import(path=path, actor=imported["village_clerk"])
    assert (summary.households_unchanged, summary.households_updated) == (2, 0)
    assert AuditEvent.objects.count() == before


def test_mask_phone():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("") == "" and mask_phone("12345") == "*****"


def test_export_command_writes_the_file(tmp_path, imported, capsys):
    path = tmp_path / "cli.xlsx"
    call_command("export", "households", "-o", str(path), "--region", TOWN)
    assert "已导出农户 2 户" in capsys.readouterr().out
    assert _sheet(path, "农户清单")[0] == EXPORT_COLUMNS
    event = AuditEvent.objects.filter(action="household.exported").latest("id")
    assert event.actor_username.startswith("cli-")


def test_export_command_region_outside_gives_nothing(tmp_path, imported, capsys):
    path = tmp_path / "cli.csv"
    call_command("export", "households", "-o", str(path), "--region", "341523105000")
    assert "已导出农户 0 户" in capsys.readouterr().out


def test_export_command_refuses_unknown_kinds_and_suffixes(tmp_path, regions):
    with pytest.raises(CommandError, match="未知的导出类型"):
        call_command("export", "nonsense", "-o", str(tmp_path / "x.xlsx"))
    with pytest.raises(CommandError, match=r"\.xlsx 或 \.csv"):
        call_command("export", "households", "-o", str(tmp_path / "x.txt"))
    with pytest.raises(CommandError, match="区划代码"):
        call_command("export", "households", "-o", str(tmp_path / "x.xlsx"), "--region", "12")


def test_export_kinds_are_registered_by_apps():
    from fangfan.core.exports import discover, register_export, run_export

    kinds = discover()
    assert "households" in kinds
    calls = []
    register_export("test-kind", lambda *, path, region_code: calls.append((path, region_code)) or 7, "测试")
    try:
        assert (
            run_export(
                discover()["test-kind"], path="p", region_code=None, actor=operator(), reveal_ids=False
            )
            == 7
        )
        assert calls == [("p", None)]
    finally:
        from fangfan.core.exports import EXPORTERS

        EXPORTERS.pop("test-kind")
