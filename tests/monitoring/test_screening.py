"""Screening as a whole: idempotent, never a duplicate open warning, an excluded warning not raised again for the
same evidence, incremental runs touch only what they should, policy parameters per village, the run record and
audit, the background job behind the town station's button, and ``fangfan screen``."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from conftest import NEIGHBOUR_VILLAGE, OTHER_VILLAGE, TOWN, VILLAGE, operator
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from monitoring.screening_support import id_of, import_rows, rule_codes, warnings
from registry_factory import make_household

from fangfan.core.errors import DomainError
from fangfan.core.jobs import job_run_now
from fangfan.core.models import AuditEvent, Job
from fangfan.monitoring.department import AlreadyImported
from fangfan.monitoring.models import EarlyWarning, RiskPoint, ScreeningRun, VerificationTask
from fangfan.monitoring.rule_sql import STAGED
from fangfan.monitoring.screening import policy_groups, screening_run, screening_start
from fangfan.policy.models import PolicyValue
from fangfan.registry.services import household_recompute

pytestmark = pytest.mark.django_db

LOW = {"wage_income": Decimal("4000")}


def poor(number: str, village: str = VILLAGE, **kwargs):
    return make_household(number, village, income=kwargs.pop("income", LOW), **kwargs)


def test_重复筛查不产生重复预警(regions):
    household = poor("H1", housing_grade="D")
    first = screening_run(actor=operator())
    assert first.new_warnings == 2
    second = screening_run(actor=operator())
    assert second.new_warnings == 0
    assert sorted(w.rule_code for w in warnings(household)) == ["housing_unsafe", "income_below_line"]


def test_已排除的预警对同一证据不再产生_证据变化后重新预警(regions):
    household = poor("H1")
    screening_run(actor=operator())
    (warning,) = warnings(household, "income_below_line")
    EarlyWarning.objects.filter(pk=warning.pk).update(
        state="excluded", exclude_reason="收入核实有误", decided_at=timezone.now(), task=None
    )
    assert screening_run(actor=operator()).new_warnings == 0
    household.wage_income = Decimal("3000")
    household.save()
    household_recompute(household)
    run = screening_run(actor=operator())
    assert run.per_rule["income_below_line"]["new"] == 1
    assert [w.state for w in warnings(household, "income_below_line")][-1] in ("pending", "verifying")


def test_同一规则的预警未办结时不重复产生(regions, tmp_path):
    household = make_household("H1", VILLAGE, household_type="exited", exited_class="monitored")
    import_rows(
        tmp_path,
        "medical",
        [{"证件号码": id_of(household), "结算日期": "2026-01-05", "个人自付金额": "7000"}],
    )
    summary = import_rows(
        tmp_path,
        "medical",
        [{"证件号码": id_of(household), "结算日期": "2026-02-05", "个人自付金额": "9000"}],
        name="second.csv",
    )
    assert summary.warnings == 0
    assert len(warnings(household, "medical_self_paid")) == 1


def test_部门重复报送同一文件不重复预警_已排除后也不再预警(regions, tmp_path):
    household = make_household("H1", VILLAGE, household_type="exited", exited_class="monitored")
    rows = [{"证件号码": id_of(household), "结算日期": "2026-01-05", "个人自付金额": "7000"}]
    import_rows(tmp_path, "medical", rows)
    EarlyWarning.objects.filter(household=household).update(
        state="excluded", exclude_reason="已报销", decided_at=timezone.now(), task=None
    )
    with pytest.raises(AlreadyImported):  # the very same content is one batch (issue 17)
        import_rows(tmp_path, "medical", rows, name="again.csv")
    resent = [{**rows[0], "备注": "补报"}]  # the same settlement in another file
    again = import_rows(tmp_path, "medical", resent, name="again.csv")
    assert again.warnings == 0
    assert screening_run(actor=operator()).per_rule["medical_self_paid"]["new"] == 0


def test_核查期间到达的部门数据视为已核查_办结后不再补报(regions, tmp_path):
    household = make_household("H1", VILLAGE, household_type="exited", exited_class="monitored")
    import_rows(
        tmp_path,
        "medical",
        [{"证件号码": id_of(household), "结算日期": "2026-01-05", "个人自付金额": "7000"}],
    )
    import_rows(
        tmp_path,
        "medical",
        [{"证件号码": id_of(household), "结算日期": "2026-01-20", "个人自付金额": "6500"}],
        name="b.csv",
    )
    EarlyWarning.objects.filter(household=household).update(
        state="confirmed", decided_at=timezone.now(), task=None
    )
    assert screening_run(actor=operator()).per_rule["medical_self_paid"]["new"] == 0


def test_已有同类风险点未消除时不再预警(regions):
    household = poor("H1", members=[("甲", date(1960, 1, 1), "户主", {"health": "患有大病"})])
    RiskPoint.objects.create(
        household=household, region_code=VILLAGE, risk_type="illness", channel="cadre", found_on=date(2026, 1, 1),
        deadline=date(2026, 6, 1), description="因病",
    )  # fmt: skip
    screening_run(actor=operator())
    assert "illness_serious" not in rule_codes(household)
    assert "income_below_line" in rule_codes(household)


def test_只筛查辖区内未注销的农户(regions):
    inside = poor("H1")
    neighbour = poor("H2", NEIGHBOUR_VILLAGE)
    cancelled = poor("H3", cancelled=True)
    run = screening_run(region_code=TOWN, actor=operator())
    assert run.region_code == TOWN
    assert rule_codes(inside) == {"income_below_line"}
    assert rule_codes(neighbour) == set() and rule_codes(cancelled) == set()


def test_增量筛查只处理指定农户(regions):
    touched = poor("H1")
    untouched = poor("H2")
    run = screening_run(actor=operator(), household_ids=[touched.pk])
    assert run.new_warnings == 1
    assert rule_codes(touched) == {"income_below_line"} and rule_codes(untouched) == set()
    assert screening_run(actor=operator(), household_ids=[]).new_warnings == 0


def test_少数农户的增量筛查读成员子查询_与临时表结果一致(regions, monkeypatch):
    """A visit's re-screening (a few households) reads the member facts as a subquery instead of building the
    run's temporary table: the same households with the same members raise the same warnings either way."""
    from fangfan.monitoring import screening

    def family(prefix: str):
        return [
            poor(f"{prefix}1", members=[("王大力", date(1955, 1, 2), "户主", {"health": "患有大病"})]),
            poor(f"{prefix}2", members=[("李四", date(1980, 1, 1), "户主", {"resident_medical": False})]),
            poor(
                f"{prefix}3", members=[("张三", date(1975, 1, 1), "户主"), ("张小", date(2015, 3, 1), "之子")]
            ),
        ]

    def raised(households):
        return sorted(
            (w.rule_code, w.explanation)
            for w in EarlyWarning.objects.unscoped().filter(household__in=households)
        )

    with_table, with_subquery = family("T"), family("S")
    statements = []

    def seen(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    monkeypatch.setattr(screening, "FEW_HOUSEHOLDS", 0)
    with connection.execute_wrapper(seen):
        screening_run(actor=operator(), household_ids=[h.pk for h in with_table])
    assert any("CREATE TEMPORARY TABLE screening_members" in sql for sql in statements)
    monkeypatch.setattr(screening, "FEW_HOUSEHOLDS", 50)
    statements.clear()
    with connection.execute_wrapper(seen):
        screening_run(actor=operator(), household_ids=[h.pk for h in with_subquery])
    assert not any("screening_members" in sql for sql in statements)
    assert raised(with_table) == raised(with_subquery) and len(raised(with_table)) >= 3


def test_部门数据导入后只对本批数据运行本来源规则(regions, tmp_path):
    listed = poor("H1", members=[("甲", date(1980, 1, 1), "户主")])
    other = make_household("H2", VILLAGE, household_type="exited", exited_class="monitored")
    # H2 has an earlier medical row already in the system, never screened (e.g. rules were disabled then).
    summary = import_rows(
        tmp_path, "employment", [{"证件号码": id_of(listed), "状态": "失业", "日期": "2026-03-01"}]
    )
    assert summary.warnings == 1
    assert rule_codes(listed) == {"employment_unstable"}  # not the registry's income rule
    assert rule_codes(other) == set()
    run = ScreeningRun.objects.get(pk=summary.screening_run_id)
    assert list(run.per_rule) == ["employment_unstable"] and run.batch_id == summary.batch_id


def test_按村适用的政策参数分组筛查(regions):
    """东风村 sets its monitoring line to 6000 元 from this year; 新河村 keeps the default 5000 元."""
    PolicyValue.objects.create(key="monitoring_line", region_id=VILLAGE, year=date.today().year, value=6000)
    here = make_household("H1", VILLAGE, income={"wage_income": Decimal("5500")})
    there = make_household("H2", OTHER_VILLAGE, income={"wage_income": Decimal("5500")})
    screening_run(region_code=TOWN, actor=operator())
    assert "低于监测收入标准 6000 元" in warnings(here, "income_below_line")[0].explanation
    assert rule_codes(there) == set()
    with CaptureQueriesContext(connection) as queries:
        root, differing = policy_groups(TOWN, year=date.today().year)
    assert len(queries.captured_queries) == 2, "政策参数一次查询、区划一次查询，解析全部村"
    assert root["monitoring_line"] == 5000 and differing[VILLAGE]["monitoring_line"] == 6000
    assert OTHER_VILLAGE not in differing


def test_上级区划设定的参数对全部村适用(regions):
    PolicyValue.objects.create(key="monitoring_line", region_id=TOWN, year=2020, value=6000)
    here = make_household("H1", VILLAGE, income={"wage_income": Decimal("5500")})
    screening_run(actor=operator())
    assert "监测收入标准 6000 元" in warnings(here, "income_below_line")[0].explanation


def test_筛查记录各规则新增数与耗时并写审计(regions):
    poor("H1")
    run = screening_run(actor=operator())
    assert run.new_warnings == 1 and run.seconds > 0 and run.finished_at
    assert run.per_rule["income_below_line"]["new"] == 1
    assert set(run.per_rule["income_below_line"]) == {"name", "new", "seconds"}
    event = AuditEvent.objects.filter(action="screening.run").latest("id")
    assert event.after["new_warnings"] == 1 and event.after["per_rule"] == {"income_below_line": 1}


def test_新预警归并为每户一个核查任务(regions):
    from fangfan.monitoring import services

    if not hasattr(services, "tasks_bundle"):
        pytest.skip("monitoring.services.tasks_bundle 尚未提供")
    household = poor("H1", housing_grade="C")
    screening_run(actor=operator())
    tasks = {w.task_id for w in warnings(household)}
    assert len(tasks) == 1 and None not in tasks


def test_一条规则一条语句_不按户循环(regions):
    for i in range(30):
        poor(f"H{i}")
    with CaptureQueriesContext(connection) as queries:
        run = screening_run(actor=operator())
    assert run.new_warnings == 30
    sqls = [q["sql"] for q in queries.captured_queries]
    staged = [q for q in sqls if q.startswith(f"INSERT INTO {STAGED} ")]
    assert len(staged) == len(run.per_rule)
    # The warnings table is written once, by one statement, whatever the number of households.
    (insert,) = [q for q in sqls if q.startswith("INSERT INTO monitoring_earlywarning")]
    assert "task_id" in insert and "'verifying'" in insert  # written attached: no second pass over the rows


def test_全量筛查的新预警写入时已归入本户核查任务_每条只写一次(regions):
    households = [poor(f"H{i}", housing_grade="C") for i in range(3)]
    poor("H9", NEIGHBOUR_VILLAGE)
    run = screening_run(actor=operator())
    assert run.new_warnings == 7
    for household in households:
        found = warnings(household)
        assert len(found) == 2
        assert {w.state for w in found} == {"verifying"}
        (task,) = VerificationTask.objects.filter(household=household)
        assert {w.task_id for w in found} == {task.pk} and task.state == "open"
        assert task.due_date == timezone.localdate() + timedelta(days=3)  # 入户核查 verify_days
    event = AuditEvent.objects.filter(action="warning.bundled").latest("id")
    assert event.after["warnings"] == 7 and event.after["tasks_created"] == 4
    assert screening_run(actor=operator()).new_warnings == 0
    assert EarlyWarning.objects.count() == 7 and VerificationTask.objects.count() == 4


def test_新预警并入本户已有的核查任务_本户待核查的预警一并归入(regions):
    household = poor("H1")
    manual = EarlyWarning.objects.create(
        household=household,
        region_code=household.region_id,
        rule_code="",
        risk_type="other",
        channel="cadre",
        dedupe_key="manual-1",
        explanation="基层干部排查",
        created_at=timezone.now(),
    )
    task = VerificationTask.objects.create(
        household=household,
        region_code=household.region_id,
        due_date=date(2030, 1, 1),
        decide_by=date(2030, 1, 2),
    )
    run = screening_run(actor=operator())
    assert run.new_warnings == 1
    assert {(w.state, w.task_id) for w in warnings(household)} == {("verifying", task.pk)}
    manual.refresh_from_db()
    assert manual.task_id == task.pk
    assert VerificationTask.objects.filter(household=household).count() == 1


def test_全量筛查也归并辖区内其他仍待核查的预警(regions):
    quiet = make_household("Q1", VILLAGE, income={"wage_income": Decimal("90000")})
    left = EarlyWarning.objects.create(
        household=quiet,
        region_code=quiet.region_id,
        rule_code="",
        risk_type="other",
        channel="cadre",
        dedupe_key="manual-2",
        explanation="基层干部排查",
        created_at=timezone.now(),
    )
    assert screening_run(actor=operator()).new_warnings == 0
    left.refresh_from_db()
    assert left.state == "verifying" and left.task.household_id == quiet.pk


def test_按村政策的核查期限用于新开的核查任务(regions):
    PolicyValue.objects.create(region_id=OTHER_VILLAGE, key="verify_days", year=2020, value=Decimal("7"))
    here, there = poor("H1"), poor("H2", OTHER_VILLAGE)
    screening_run(actor=operator())
    today = timezone.localdate()
    assert VerificationTask.objects.get(household=here).due_date == today + timedelta(days=3)
    assert VerificationTask.objects.get(household=there).due_date == today + timedelta(days=7)


def test_乡镇工作站发起筛查_后台任务带进度(regions, users):
    poor("H1")
    poor("H2", NEIGHBOUR_VILLAGE)
    job = screening_start(actor=users["town_station"])
    assert job.kind == "screening" and job.region_code == TOWN
    job = job_run_now(job)
    assert job.state == Job.State.DONE, job.message
    assert job.result["new_warnings"] == 1 and job.progress == job.total > 0
    assert "新增预警 1 条" in job.message


def test_无筛查权限的角色不能发起筛查(regions, users):
    with pytest.raises(DomainError):
        screening_start(actor=users["village_clerk"])
    with pytest.raises(DomainError):
        screening_run(region_code=NEIGHBOUR_VILLAGE, actor=users["town_station"])


def test_命令行筛查输出各规则新增数与合计(regions):
    poor("H1", housing_grade="C")
    out = StringIO()
    call_command("screen", "--region", TOWN, stdout=out)
    text = out.getvalue()
    assert "预警筛查完成：桃溪镇" in text
    assert "年人均纯收入低于监测收入标准" in text and "合计新增预警 2 条" in text
    out = StringIO()
    call_command("screen", stdout=out)
    assert "合计新增预警 0 条" in out.getvalue()


def test_命令行筛查区划无效时中文报错_非零退出(regions):
    with pytest.raises(CommandError, match="不存在"):
        call_command("screen", "--region", "341523999000")


def test_命令行筛查参数错误时退出码非零(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "fangfan.cli", "screen", "--region", "12"],
        capture_output=True,
        text=True,
        env={**os.environ, "FANGFAN_DATA_DIR": str(tmp_path / "data")},
        timeout=120,
    )
    assert result.returncode != 0 and "区划代码“12”无效" in result.stderr and "Traceback" not in result.stderr


def test_全部地区的筛查记在包含全部农户的最小区划下(regions):
    poor("H1")
    assert screening_run(actor=operator()).region_code == VILLAGE
    poor("H2", NEIGHBOUR_VILLAGE)
    assert screening_run(actor=operator()).region_code == "341523000000"  # 舒城县


def test_命令行筛查启动时不加载导入导出与拼音_任务处理函数都已登记(tmp_path):
    """``fangfan screen`` starts in ≈ 0.4 s: the registry's job handlers import their heavy modules when a job runs."""
    code = (
        "import django, sys; django.setup(); import fangfan.monitoring.services, fangfan.monitoring.screening; "
        "from fangfan.core.jobs import _HANDLERS; "
        "heavy = ('pypinyin', 'fangfan.registry.importing.households', 'fangfan.registry.exporter', 'fangfan.registry.derive'); "
        "print(sorted(m for m in heavy if m in sys.modules), sorted(_HANDLERS))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "FANGFAN_DATA_DIR": str(tmp_path / "data")},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    loaded, handlers = result.stdout.strip().split("] ", 1)
    assert loaded == "["
    for kind in ("households_import", "households_export", "households_recompute", "screening"):
        assert f"'{kind}'" in handlers
