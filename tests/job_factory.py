"""Background jobs as the attacks of security issue 16 found them, with their files on disk: a town station's
export with whole ID numbers and phones, and a village's failed household import with its list of problems (names,
a whole ID number). ``folder`` is where their files go (a test's ``tmp_path``, or MEDIA_ROOT)."""

from __future__ import annotations

from pathlib import Path

from conftest import TOWN, VILLAGE

from fangfan.core.models import Job
from fangfan.core.tabular import Problem
from fangfan.registry import jobs as registry_jobs

WHOLE_ID = "34152319800101001X"


def town_export_with_ids(users, folder: Path, *, created_by=None) -> Job:
    """镇扶贫工作站 exported the town's 农户清单 with 成员信息 and whole IDs (more than 5 000 households: a job)."""
    path = Path(folder) / "export-town.csv"
    path.write_text(f"户编号,证件号码,联系电话\n3415231042010001,{WHOLE_ID},13912345678\n", encoding="utf-8")
    return Job.objects.create(
        kind=registry_jobs.EXPORT_KIND,
        title="导出农户清单",
        region_code=TOWN,
        created_by=created_by or users["town_station"],
        state=Job.State.DONE,
        params={"filters": {}, "format": "csv", "reveal_ids": True, "members": True},
        result={"households": 1, "members": 1},
        output_file=str(path),
    )


def village_import_failed(users, *, created_by=None) -> Job:
    """东风村's clerk uploaded a workbook that failed: its problems (a duplicate's whole ID number, a name) are in
    the .xlsx and the JSON list the job's page shows (written under MEDIA_ROOT, as the import job does)."""
    job = Job.objects.create(
        kind=registry_jobs.IMPORT_KIND,
        title="导入农户：东风村.xlsx",
        region_code=VILLAGE,
        created_by=created_by or users["village_clerk"],
        state=Job.State.FAILED,
        params={"dry_run": True, "display_name": "东风村.xlsx"},
        result={"problem_count": 2},
        message="东风村.xlsx 有 2 处错误，未导入任何数据；请改正后重新导入",
    )
    problems = [
        Problem("东风村.xlsx", "成员信息", 5, "证件号码", WHOLE_ID, "证件号码与第3行重复"),
        Problem("东风村.xlsx", "成员信息", 6, "姓名", "张秘密", "姓名不能为空格"),
    ]
    path = registry_jobs.write_problems(job, problems)
    Job.objects.filter(pk=job.pk).update(output_file=str(path))
    job.refresh_from_db()
    return job


def town_ledger_job(users, folder: Path, *, created_by=None) -> Job:
    """镇扶贫工作站 exported 桃溪镇's 监测对象台账 (too many rows for the page: a job), masked IDs, its file done."""
    from fangfan.reports.ledgers.jobs import JOB_KIND

    path = Path(folder) / "ledger-town.xlsx"
    path.write_bytes(b"PK\x03\x04")
    return Job.objects.create(
        kind=JOB_KIND,
        title="导出监测对象台账",
        region_code=TOWN,
        created_by=created_by or users["town_station"],
        state=Job.State.DONE,
        params={"ledger": "monitored", "region": TOWN, "month": "", "reveal_ids": False},
        result={"rows": 1},
        output_file=str(path),
    )
