"""Importing a 区划代码表 (DATA-FORMATS §1): the service, the `fangfan import-regions` command and the page."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import xlsxwriter
from conftest import NEIGHBOUR_VILLAGE, REGIONS_CSV, TOWN, VILLAGE, operator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from fangfan.core.errors import ValidationFailed
from fangfan.core.models import AuditEvent
from fangfan.regions.models import Region
from fangfan.regions.services import regions_import

pytestmark = pytest.mark.django_db


def _csv(tmp_path: Path, rows: list[tuple[str, str]], name="regions.csv") -> Path:
    path = tmp_path / name
    path.write_text("区划代码,名称\n" + "".join(f"{c},{n}\n" for c, n in rows), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ValidationFailed) as exc:
        regions_import(path=path, actor=operator())
    assert "未导入任何数据" in exc.value.message
    return [str(p) for p in exc.value.problems]


def test_happy_path_builds_the_tree():
    summary = regions_import(path=REGIONS_CSV, actor=operator())
    assert (summary.read, summary.created, summary.updated, summary.unchanged) == (19, 19, 0, 0)
    village = Region.objects.get(code=VILLAGE)
    assert (village.name, village.level, village.parent_id) == ("东风村", 5, TOWN)
    assert Region.objects.get(code=TOWN).children.count() == 7
    assert AuditEvent.objects.filter(action="region.imported").count() == 1


def test_reimport_changes_nothing():
    regions_import(path=REGIONS_CSV, actor=operator())
    events = AuditEvent.objects.count()
    summary = regions_import(path=REGIONS_CSV, actor=operator())
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 19)
    assert AuditEvent.objects.count() == events


def test_renamed_region_is_updated(tmp_path, regions):
    summary = regions_import(path=_csv(tmp_path, [(VILLAGE, "东风新村")]), actor=operator())
    assert (summary.updated, summary.created) == (1, 0)
    assert Region.objects.get(code=VILLAGE).name == "东风新村"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("34152310420", "短码村")], "第3行 列“区划代码”（值：34152310420）：区划代码应为12位数字"),
        ([("34152310420X", "字母村")], "区划代码应为12位数字"),
        ([("341523104299", "")], "第3行 列“名称”：名称不能为空"),
        (
            [("341523104299", "甲村"), ("341523104299", "乙村")],
            "第4行 列“区划代码”（值：341523104299）：与第3行重复",
        ),
        ([("341523106201", "远方村")], "上级区划 341523106000 不存在，请先导入上级"),
    ],
    ids=["bad-code", "letters", "missing-name", "duplicate", "unknown-parent"],
)
def test_each_kind_of_bad_row_is_reported_and_nothing_written(tmp_path, regions, rows, expected):
    before = (Region.objects.count(), AuditEvent.objects.count())
    problems = _problems(_csv(tmp_path, [("341523104208", "好村"), *rows]))
    assert any(expected in p for p in problems), problems
    assert (Region.objects.count(), AuditEvent.objects.count()) == before
    assert not Region.objects.filter(code="341523104208").exists()


def test_numeric_cell_in_xlsx_is_refused(tmp_path, regions):
    path = tmp_path / "regions.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("区划")
    ws.write_row(0, 0, ["区划代码", "名称"])
    ws.write_string(1, 0, "341523104208")
    ws.write_string(1, 1, "文本村")
    ws.write_number(2, 0, 341523104209)
    ws.write_string(2, 1, "数字村")
    wb.close()
    problems = _problems(path)
    assert problems == [
        "regions.xlsx 工作表“区划” 第3行 列“区划代码”（值：341523104209）：区划代码应设为文本格式"
    ]
    assert not Region.objects.filter(code__in=["341523104208", "341523104209"]).exists()


def test_missing_header(tmp_path, regions):
    path = tmp_path / "bad.csv"
    path.write_text("代码,名称\n341523104208,好村\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        regions_import(path=path, actor=operator())
    assert "缺少必需的列" in exc.value.message


def test_a_column_given_twice_is_refused(tmp_path, regions):
    path = tmp_path / "twice.csv"
    path.write_text("区划代码,名称,名称\n341523104208,好村,坏村\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        regions_import(path=path, actor=operator())
    assert [str(p) for p in exc.value.problems] == [
        "twice.csv 第1行 列“名称”（值：名称）：这一列出现了 2 次（第 2、3 列），请只保留一列"
    ]
    assert not Region.objects.filter(code="341523104208").exists()


# --- the command --------------------------------------------------------------------------------------------


def test_command_imports_and_reports_in_chinese(regions, tmp_path, users):
    out = io.StringIO()
    call_command(
        "import-regions",
        str(_csv(tmp_path, [("341523104208", "新建村")])),
        "--user",
        "sys_admin-341523000000",
        stdout=out,
    )
    assert "导入完成：读取 1 条，新增 1，更新 0，未变 0。" in out.getvalue()
    event = AuditEvent.objects.filter(action="region.imported").latest("id")
    assert event.actor_username == "sys_admin-341523000000"


def test_command_dry_run_writes_nothing(regions, tmp_path):
    out = io.StringIO()
    call_command("import-regions", str(_csv(tmp_path, [("341523104208", "新建村")])), "--dry-run", stdout=out)
    assert "检查通过（未写入）" in out.getvalue()
    assert not Region.objects.filter(code="341523104208").exists()


def test_command_bad_file_exits_non_zero_with_chinese_stderr(regions, tmp_path):
    err = io.StringIO()
    path = _csv(tmp_path, [("341523104208", ""), ("12345", "坏码村")])
    with pytest.raises(CommandError) as exc:
        call_command("import-regions", str(path), stderr=err)
    assert exc.value.returncode == 1
    assert "区划代码表有 2 处错误，未导入任何数据" in str(exc.value)
    assert "第2行 列“名称”：名称不能为空" in err.getvalue()
    assert "第3行 列“区划代码”（值：12345）：区划代码应为12位数字" in err.getvalue()
    assert "Traceback" not in err.getvalue()
    assert not Region.objects.filter(code="341523104208").exists()


def test_command_missing_file(db):
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("import-regions", "/nonexistent/区划.csv")


def test_command_unknown_user(regions, tmp_path):
    with pytest.raises(CommandError, match="不存在或已停用"):
        call_command("import-regions", str(_csv(tmp_path, [])), "--user", "ghost")


# --- the page -----------------------------------------------------------------------------------------------


def _upload(rows, name="regions.csv"):
    body = "区划代码,名称\n" + "".join(f"{c},{n}\n" for c, n in rows)
    return SimpleUploadedFile(name, body.encode("utf-8"), content_type="text/csv")


def test_import_page_dry_run_then_import(client, users):
    client.force_login(users["sys_admin"])
    url = reverse("regions:region_import")
    assert "导入区划代码表" in client.get(url).content.decode()
    html = client.post(url, {"file": _upload([("341523104208", "新建村")]), "dry_run": "on"}).content.decode()
    assert "检查通过（未写入）" in html and "新增 1" in html
    assert not Region.objects.filter(code="341523104208").exists()
    html = client.post(url, {"file": _upload([("341523104208", "新建村")])}).content.decode()
    assert "导入完成" in html
    assert Region.objects.get(code="341523104208").name == "新建村"
    event = AuditEvent.objects.filter(action="region.imported").latest("id")
    assert event.actor_id == users["sys_admin"].pk


def test_import_page_shows_each_problem_in_chinese(client, users):
    client.force_login(users["sys_admin"])
    response = client.post(
        reverse("regions:region_import"),
        {
            "file": _upload(
                [("341523104208", ""), ("341523104208", "重复村"), ("99", "坏村")], name="错表.csv"
            )
        },
    )
    html = response.content.decode()
    assert "未导入任何数据" in html
    assert "错表.csv 第2行 列“名称”：名称不能为空" in html
    assert "错表.csv 第3行 列“区划代码”（值：341523104208）：与第2行重复" in html
    assert "错表.csv 第4行 列“区划代码”（值：99）：区划代码应为12位数字" in html
    assert not Region.objects.filter(code="341523104208").exists()


def test_import_page_refuses_other_file_types(client, users):
    client.force_login(users["sys_admin"])
    upload = SimpleUploadedFile("regions.txt", b"x", content_type="text/plain")
    html = client.post(reverse("regions:region_import"), {"file": upload}).content.decode()
    assert "只支持 .xlsx 或 .csv 文件" in html


def test_region_list_shows_exactly_the_subtree(client, users, make_user):
    url = reverse("regions:region_list")
    client.force_login(make_user("sys_admin", TOWN, username="town-admin"))
    html = client.get(url).content.decode()
    assert "东风村" in html and "桃溪镇" in html
    assert "复元村" not in html and "千人桥镇" not in html
    assert "共 8 条" in html
    # search cannot reach outside the subtree
    assert "没有符合条件的区划" in client.get(url, {"q": "复元"}).content.decode()
    client.force_login(users["sys_admin"])  # the county
    html = client.get(url).content.decode()
    assert "东风村" in html and "复元村" in html and "共 17 条" in html
    html = client.get(url, {"level": 4}).content.decode()
    assert "桃溪镇" in html and "千人桥镇" in html and "东风村" not in html
    assert NEIGHBOUR_VILLAGE in client.get(url, {"q": "复元"}).content.decode()


def test_region_list_counts_children(client, users):
    client.force_login(users["sys_admin"])
    html = client.get(reverse("regions:region_list"), {"level": 4}).content.decode()
    row = html.split("桃溪镇")[1].split("</tr>")[0]
    assert '<td class="text-end">7</td>' in row
