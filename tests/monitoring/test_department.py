"""Department data import (DATA-FORMATS §3): all-or-nothing validation with Chinese problems, set-based matching,
unmatched rows kept and reported (never dropped), name mismatches flagged, a department user's own source and
region only, the unmatched download, and ``fangfan import-department``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from conftest import NEIGHBOUR_VILLAGE, TOWN, VILLAGE, operator
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from monitoring.screening_support import id_of, import_rows, warnings, write_csv, write_xlsx
from python_calamine import CalamineWorkbook
from registry_factory import make_household

from fangfan.core.errors import DomainError, ValidationFailed
from fangfan.core.models import AuditEvent
from fangfan.monitoring.department import department_import, department_import_rows, unmatched_export
from fangfan.monitoring.models import DepartmentBatch, DepartmentRecord, EarlyWarning

pytestmark = pytest.mark.django_db

UNKNOWN_ID = "11010519491231002X"  # valid, registered nowhere


@pytest.fixture
def homes(regions):
    return {
        "zhang": make_household("H-DF-001", VILLAGE, household_type="exited", exited_class="monitored",
                                members=[("张三", date(1970, 5, 1), "户主"), ("李梅", date(1972, 1, 1), "配偶")]),
        "neighbour": make_household("H-FY-001", NEIGHBOUR_VILLAGE, household_type="exited",
                                    exited_class="monitored", members=[("赵六", date(1969, 1, 1), "户主")]),
    }  # fmt: skip


def medical_row(id_number, name: str = "", amount: str = "8000", day: str = "2026-03-05") -> dict:
    return {
        "证件号码": id_number,
        "姓名": name,
        "结算日期": day,
        "医疗总费用": "20000",
        "个人自付金额": amount,
    }


def test_未匹配的行保留并报告_不丢弃(homes, tmp_path):
    summary = import_rows(
        tmp_path,
        "medical",
        [medical_row(id_of(homes["zhang"]), "张三"), medical_row(UNKNOWN_ID, "无名氏", "500")],
    )
    assert (summary.rows, summary.matched, summary.unmatched) == (2, 1, 1)
    batch = DepartmentBatch.objects.get(pk=summary.batch_id)
    assert (batch.rows, batch.matched, batch.unmatched, batch.state) == (2, 1, 1, "screened")
    kept = DepartmentRecord.objects.get(batch=batch, member__isnull=True)
    assert kept.row_number == 3 and kept.id_masked == "110105********002X" and kept.amount == Decimal("500")
    assert summary.unmatched_url == f"/department/batches/{batch.pk}/unmatched/"


def test_证件号码不以明文保存(homes, tmp_path):
    import_rows(tmp_path, "medical", [medical_row(UNKNOWN_ID)])
    record = DepartmentRecord.objects.get()
    stored = " ".join(str(v) for v in DepartmentRecord.objects.values_list().get())
    assert UNKNOWN_ID not in stored and record.id_index and len(record.id_index) == 64


def test_姓名不一致只标记_不影响匹配与预警(homes, tmp_path):
    summary = import_rows(tmp_path, "medical", [medical_row(id_of(homes["zhang"]), "张 叁")])
    assert summary.matched == 1 and summary.name_mismatches == 1 and summary.warnings == 1
    record = DepartmentRecord.objects.get()
    assert record.name_mismatch and record.member.name == "张三"
    same = import_rows(
        tmp_path, "medical", [medical_row(id_of(homes["zhang"], "配偶"), " 李梅 ")], name="b.csv"
    )
    assert same.name_mismatches == 0


def test_十五位旧号与全角数字可匹配(homes, tmp_path):
    member = homes["zhang"].members.get(relation="户主")
    id18 = member.id_number
    full_width = id18.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}).lower()
    summary = import_rows(tmp_path, "employment", [{"证件号码": full_width, "状态": "失业"}])
    assert summary.matched == 1


def test_辖区外登记的人员按未匹配处理并说明原因(homes, tmp_path, users):
    summary = import_rows(
        tmp_path,
        "medical",
        [medical_row(id_of(homes["zhang"])), medical_row(id_of(homes["neighbour"]))],
        actor=users["department"],  # 医保, 桃溪镇
        channel="web",
    )
    assert (summary.matched, summary.unmatched, summary.outside) == (1, 1, 1)
    assert warnings(homes["neighbour"]) == []
    buffer = io.BytesIO()
    batch = DepartmentBatch.objects.get(pk=summary.batch_id)
    assert batch.region_id == TOWN and batch.uploaded_by == users["department"]
    assert unmatched_export(batch=batch, actor=users["department"], target=buffer) == 1
    rows = CalamineWorkbook.from_filelike(io.BytesIO(buffer.getvalue())).get_sheet_by_index(0).to_python()
    assert rows[0] == [
        "原文件行号",
        "证件号码（脱敏）",
        "姓名",
        "结算日期",
        "医疗总费用",
        "个人自付金额",
        "原因",
    ]
    assert rows[1][0] == "3" and rows[1][3:6] == ["2026-03-05", "20000", "8000"]
    assert "本辖区以外" in rows[1][6]


def test_未匹配数据下载包含部门原有列与原因(homes, tmp_path):
    summary = import_rows(
        tmp_path,
        "water",
        [
            {"证件号码": UNKNOWN_ID, "姓名": "王五", "饮水安全": "否", "原因": "水质不达标", "日期": "2026-05-01",
             "村组": "三组"},
            {"证件号码": id_of(homes["zhang"]), "姓名": "张山", "饮水安全": "是", "原因": "", "日期": "2026-05-01",
             "村组": "一组"},
        ],
    )  # fmt: skip
    buffer = io.BytesIO()
    batch = DepartmentBatch.objects.get(pk=summary.batch_id)
    unmatched_export(batch=batch, actor=operator(), target=buffer)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(buffer.getvalue())).get_sheet_by_index(0).to_python()
    assert rows[0] == ["原文件行号", "证件号码（脱敏）", "姓名", "饮水安全", "原因", "日期", "村组", "原因"]
    assert rows[1] == ["2", "110105********002X", "王五", "否", "水质不达标", "2026-05-01", "三组",
                       "系统中无此证件号码（未在防返贫监测系统登记）"]  # fmt: skip
    assert rows[2][-1] == "姓名与系统登记不一致，请核对"
    assert AuditEvent.objects.filter(action="department.unmatched_exported").exists()


def test_错误文件给出中文问题清单_不写入任何数据(homes, tmp_path):
    path = write_csv(
        tmp_path,
        "坏数据.csv",
        [
            medical_row(id_of(homes["zhang"])),
            {"证件号码": "341523197005010010", "结算日期": "2026/13/01", "个人自付金额": "-5"},
            {"证件号码": "", "结算日期": "2026-03-01", "个人自付金额": "12.345"},
        ],
    )
    with pytest.raises(ValidationFailed) as failure:
        department_import(source="medical", path=path, actor=operator())
    problems = [str(p) for p in failure.value.problems]
    assert any("第3行" in p and "证件号码" in p and "校验码" in p for p in problems)
    assert any("第3行" in p and "结算日期" in p and "YYYY-MM-DD" in p for p in problems)
    assert any("第3行" in p and "个人自付金额" in p and "负数" in p for p in problems)
    assert any("第4行" in p and "证件号码" in p and "必填" in p for p in problems)
    assert any("第4行" in p and "两位小数" in p for p in problems)
    assert all("坏数据.csv" in p for p in problems)
    assert "未导入任何数据" in failure.value.message
    assert not DepartmentBatch.objects.exists() and not DepartmentRecord.objects.exists()


def test_缺少必需的列与枚举值错误(homes, tmp_path):
    path = write_csv(tmp_path, "civil.csv", [{"证件号码": UNKNOWN_ID, "救助类型": "低保"}])
    with pytest.raises(ValidationFailed) as failure:
        department_import(source="civil", path=path, actor=operator())
    assert {p.column for p in failure.value.problems} == {"状态", "日期"}
    path = write_csv(tmp_path, "civil2.csv", [{"证件号码": UNKNOWN_ID, "救助类型": "五保", "状态": "新增",
                                               "日期": "2026-01-01"}])  # fmt: skip
    with pytest.raises(ValidationFailed) as failure:
        department_import(source="civil", path=path, actor=operator())
    assert "应为：低保、特困、孤儿、临时救助" in str(failure.value.problems[0])


def test_证件号码列与其别名列同时出现时拒绝导入并指明两列(homes, tmp_path):
    """Before, the row's ID came from whichever column was read last; which one is right cannot be guessed."""
    path = write_xlsx(tmp_path, "医保.xlsx", ["证件号码", "结算日期", "个人自付金额", "身份证号码"],
                      [[id_of(homes["zhang"]), "2026-03-01", "8000", UNKNOWN_ID]])  # fmt: skip
    with pytest.raises(ValidationFailed) as failure:
        department_import(source="medical", path=path, actor=operator())
    (problem,) = failure.value.problems
    assert (problem.row, problem.column, problem.value) == (1, "证件号码", "证件号码、身份证号码")
    assert problem.reason == "这一列出现了 2 次（A、D 列），请只保留一列"
    assert not DepartmentBatch.objects.exists()


def test_Excel中证件号码为数字时报错指明单元格(homes, tmp_path):
    path = write_xlsx(tmp_path, "医保.xlsx", ["证件号码", "结算日期", "个人自付金额"],
                      [[341523197005010011.0, "2026-03-01", 8000]])  # fmt: skip
    with pytest.raises(ValidationFailed) as failure:
        department_import(source="medical", path=path, actor=operator())
    (problem,) = failure.value.problems
    assert problem.row == 2 and problem.column == "证件号码" and "文本" in problem.reason


def test_xlsx与GB18030编码CSV均可导入(homes, tmp_path):
    path = write_xlsx(tmp_path, "人社.xlsx", ["身份证号码", "姓名", "状态", "日期"],
                      [[id_of(homes["zhang"]), "张三", "返乡", "2026-02-01"]])  # fmt: skip
    assert department_import(source="employment", path=path, actor=operator()).matched == 1
    gbk = write_csv(
        tmp_path, "gbk.csv", [{"证件号码": id_of(homes["zhang"]), "状态": "失业"}], encoding="gb18030"
    )
    assert department_import(source="employment", path=gbk, actor=operator()).matched == 1


def test_只检查不写入(homes, tmp_path):
    summary = import_rows(tmp_path, "medical", [medical_row(id_of(homes["zhang"])), medical_row(UNKNOWN_ID)],
                          dry_run=True)  # fmt: skip
    assert (
        summary.dry_run and (summary.matched, summary.unmatched) == (1, 1) and summary.unmatched_rows == [3]
    )
    assert not DepartmentBatch.objects.exists() and not EarlyWarning.objects.exists()


def test_部门用户只能导入本部门数据(homes, tmp_path, users):
    with pytest.raises(DomainError, match="只能报送本部门（医保）"):
        import_rows(tmp_path, "civil", [{"证件号码": UNKNOWN_ID, "救助类型": "低保", "状态": "新增",
                                         "日期": "2026-01-01"}], actor=users["department"])  # fmt: skip
    with pytest.raises(DomainError):
        import_rows(tmp_path, "medical", [medical_row(UNKNOWN_ID)], actor=users["village_clerk"])


def test_部门用户只看到本部门本辖区的批次和预警(homes, tmp_path, users, make_user):
    import_rows(tmp_path, "medical", [medical_row(id_of(homes["zhang"]))], actor=users["department"])
    import_rows(tmp_path, "employment", [{"证件号码": id_of(homes["zhang"]), "状态": "失业"}],
                actor=users["town_station"], name="e.csv")  # fmt: skip
    import_rows(tmp_path, "medical", [medical_row(id_of(homes["neighbour"]))], actor=users["neighbour_station"],
                name="n.csv")  # fmt: skip
    medical = users["department"]
    assert set(
        DepartmentBatch.objects.for_user(medical, "department.view").values_list("source", flat=True)
    ) == {"medical"}
    assert DepartmentBatch.objects.for_user(medical, "department.view").count() == 1
    seen = EarlyWarning.objects.for_user(medical, "warning.view")
    assert {w.source for w in seen} == {"medical"} and {w.household_id for w in seen} == {homes["zhang"].pk}
    civil = make_user("department", TOWN, department="civil")
    assert not DepartmentBatch.objects.for_user(civil, "department.view").exists()
    assert not EarlyWarning.objects.for_user(civil, "warning.view").exists()


def test_批次导入写审计(homes, tmp_path, users):
    summary = import_rows(
        tmp_path, "medical", [medical_row(id_of(homes["zhang"]))], actor=users["town_station"]
    )
    event = AuditEvent.objects.get(action="department.imported")
    assert event.object_id == str(summary.batch_id) and event.after["matched"] == 1
    assert id_of(homes["zhang"]) not in str(event.after)


def test_匹配是集合式的_查询次数与行数无关(homes, tmp_path):
    rows = [medical_row(UNKNOWN_ID, amount="100") for _ in range(300)] + [medical_row(id_of(homes["zhang"]))]
    path = write_csv(tmp_path, "many.csv", rows)
    with CaptureQueriesContext(connection) as queries:
        department_import(source="medical", path=path, actor=operator())
    member_reads = [q for q in queries.captured_queries if 'FROM "registry_member"' in q["sql"]]
    assert len(member_reads) == 1


def test_接口行数据与文件导入结果一致(homes):
    summary = department_import_rows(
        source="medical", rows=[medical_row(id_of(homes["zhang"]))], file_name="接口", actor=operator()
    )
    assert summary.matched == 1 and summary.warnings == 1
    with pytest.raises(ValidationFailed) as failure:
        department_import_rows(
            source="medical", rows=[medical_row(341523197005010011)], file_name="x", actor=operator()
        )
    assert any("文本" in str(p) for p in failure.value.problems)


# --- fangfan import-department ------------------------------------------------------------------------------------


def test_命令行导入输出行数_匹配_未匹配_下载位置与预警数(homes, tmp_path):
    path = write_csv(
        tmp_path, "医保3月.csv", [medical_row(id_of(homes["zhang"]), "张四"), medical_row(UNKNOWN_ID)]
    )
    out = StringIO()
    call_command("import-department", "medical", str(path), stdout=out)
    text = out.getvalue()
    batch = DepartmentBatch.objects.get()
    assert batch.channel == "cli"
    assert "读取 2 行，已匹配 1 行，未匹配 1 行" in text
    assert "姓名不一致 1 行" in text
    assert f"/department/batches/{batch.pk}/unmatched/" in text
    assert "产生预警 1 条" in text


def test_命令行导入错误时中文报错_非零退出_不写入(homes, tmp_path):
    path = write_csv(
        tmp_path, "bad.csv", [{"证件号码": "123", "结算日期": "2026-01-01", "个人自付金额": "1"}]
    )
    err = StringIO()
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command("import-department", "medical", str(path), stderr=err)
    assert "长度应为18位" in err.getvalue()
    with pytest.raises(CommandError, match="未知的数据来源"):
        call_command("import-department", "bank", str(path))
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("import-department", "medical", str(tmp_path / "none.csv"))
    result = subprocess.run(
        [sys.executable, "-m", "fangfan.cli", "import-department", "bank", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "FANGFAN_DATA_DIR": str(tmp_path / "data")},
        timeout=120,
    )
    assert result.returncode != 0 and "未知的数据来源" in result.stderr and "Traceback" not in result.stderr
    assert not DepartmentBatch.objects.exists()


def test_命令行只检查(homes, tmp_path):
    path = write_csv(tmp_path, "m.csv", [medical_row(UNKNOWN_ID)])
    out = StringIO()
    call_command("import-department", "medical", str(path), "--dry-run", stdout=out)
    assert "检查通过（未写入）" in out.getvalue() and "未匹配的行号：2" in out.getvalue()
    assert not DepartmentBatch.objects.exists()


def test_辖区外登记的人数每次显示都记入审计日志(homes, tmp_path, users, client):
    """Issue 16 point 10: a dry run, the batch page and the unmatched download tell whether a person is registered
    outside the region — kept (the department must report them to their own place), and audited each time with
    the count only."""
    from django.urls import reverse

    outside_id = id_of(homes["neighbour"])
    rows = [medical_row(id_of(homes["zhang"])), medical_row(outside_id)]
    dry = import_rows(tmp_path, "medical", rows, actor=users["department"], channel="web", dry_run=True)
    assert dry.outside == 1 and not DepartmentBatch.objects.exists()
    [event] = AuditEvent.objects.filter(action="member.elsewhere_shown")
    assert event.actor == users["department"] and event.region_code == TOWN
    assert event.after == {"count": 1, "via": "department_import", "dry_run": True}

    summary = import_rows(tmp_path, "medical", rows, actor=users["department"], channel="web")
    batch = DepartmentBatch.objects.get(pk=summary.batch_id)
    assert AuditEvent.objects.get(action="department.imported").after["outside"] == 1
    client.force_login(users["department"])
    page = client.get(reverse("department:batch_detail", args=[batch.pk]))
    assert "本辖区以外" in page.content.decode()
    shown = AuditEvent.objects.filter(action="member.elsewhere_shown").order_by("id")
    assert shown.count() == 2
    last = shown.last()
    assert last.object_id == str(batch.pk) and last.after == {
        "count": 1,
        "via": "department_unmatched",
        "dry_run": False,
    }
    assert client.get(reverse("department:batch_unmatched", args=[batch.pk])).status_code == 200
    exported = AuditEvent.objects.get(action="department.unmatched_exported")
    assert exported.after == {"rows": 1, "outside": 1}
    for event in AuditEvent.objects.all():
        assert outside_id not in f"{event.before} {event.after} {event.note} {event.object_label}"
