"""Background jobs of the registry: importing an uploaded household workbook, exporting a large 农户清单 and
recomputing a region's derived figures.

Registered with ``core.jobs`` at import time; ``registry/apps.py`` ``ready()`` imports this module in every process.
The modules doing the work (importer, exporter, recompute — they load the pinyin tables and the workbook writer,
≈ 0.4 s) are imported when a job runs, so that a process that runs none (``fangfan screen``) starts without them.
"""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import QueryDict

from fangfan.core.errors import DomainError, ValidationFailed
from fangfan.core.job_access import job_rule
from fangfan.core.jobs import job_handler, job_start
from fangfan.core.models import Job
from fangfan.core.privatefiles import private_file, private_folder

if TYPE_CHECKING:
    from fangfan.accounts.models import User

IMPORT_KIND = "households_import"
# An import that synchronises official status with the national system (与国家系统同步): its own kind, so that the
# county — which imports only this way — sees its jobs, and a village clerk never sees them.
SYNC_KIND = "households_sync"
IMPORT_KINDS = (IMPORT_KIND, SYNC_KIND)
EXPORT_KIND = "households_export"
RECOMPUTE_KIND = (
    "households_recompute"  # recompute.JOB_KIND (that module registers the same function on import)
)
KINDS = (IMPORT_KIND, SYNC_KIND, EXPORT_KIND)
# Who may see these jobs, their problems and files (``core.job_access``): who may now do what produced them, in
# their region; an export with whole ID numbers and phones only to those who may see them whole.
job_rule(IMPORT_KIND, action="household.import")
job_rule(SYNC_KIND, action="household.sync_national")
job_rule(EXPORT_KIND, action="household.export", needs={"household.view_id": Q(params__reveal_ids=True)})
job_rule(RECOMPUTE_KIND, action="policy.edit")  # started by a change of policy values (policy_changes)
PROBLEM_HEADERS = ["文件", "工作表", "行", "列", "值", "原因"]
PROBLEMS_SHOWN = 1000


def media_dir(name: str) -> Path:
    """A folder of MEDIA_ROOT, readable by the service's account only (its files hold personal data)."""
    private_folder(Path(settings.MEDIA_ROOT))
    return private_folder(Path(settings.MEDIA_ROOT) / name)


def problems_json_path(job: Job) -> Path:
    return media_dir("jobs") / f"job-{job.pk}-problems.json"


def write_problems(job: Job, problems: list) -> Path:
    """The problems of a failed import as an .xlsx to download, and a JSON list for the status page."""
    from fangfan.core.xlsx import write_xlsx

    rows = [[p.file, p.sheet, p.row or "", p.column, p.value, p.reason] for p in problems]
    path = private_file(media_dir("jobs") / f"job-{job.pk}-{secrets.token_hex(8)}-problems.xlsx")
    write_xlsx(
        str(path), sheet="错误清单", headers=PROBLEM_HEADERS, rows=rows, widths=[18, 10, 8, 18, 24, 60]
    )
    private_file(problems_json_path(job)).write_text(
        json.dumps(
            [
                {
                    "file": p.file,
                    "sheet": p.sheet,
                    "row": p.row,
                    "column": p.column,
                    "value": p.value,
                    "reason": p.reason,
                }
                for p in problems[:PROBLEMS_SHOWN]
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return path


def read_problems(job: Job) -> list[dict]:
    path = problems_json_path(job)
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))


def import_kind(sync_national: bool) -> str:
    return SYNC_KIND if sync_national else IMPORT_KIND


def may_import(user, *, sync_national: bool) -> bool:
    """Whether ``user`` may import (``household.import``), or synchronise (``household.sync_national``, the county's
    only way to import)."""
    if sync_national:
        return user.can("household.sync_national")
    return user.can("household.import")


@job_handler(SYNC_KIND, page="transfer:job", needs_input=True)
@job_handler(IMPORT_KIND, page="transfer:job", needs_input=True)
def run_households_import(job: Job, progress) -> dict:
    from .importing.households import households_import

    params = job.params or {}
    upload = Path(job.input_file)
    keep = False
    try:
        summary = households_import(
            path=upload,
            actor=job.created_by,
            dry_run=bool(params.get("dry_run")),
            display_name=params.get("display_name") or upload.name,
            progress=progress,
            sync_national=job.kind == SYNC_KIND,
            job_id=job.pk,
        )
        # A file that passed a dry run stays for the import its starter may run next without uploading it again
        # (``import_checked_file``); ``purge-files`` removes it after the retention period if nobody does.
        keep = summary.dry_run
    except ValidationFailed as exc:
        if exc.problems:
            path = write_problems(job, exc.problems)
            Job.objects.filter(pk=job.pk).update(output_file=str(path))
        raise
    finally:
        # The upload holds personal data: keep it no longer than the job needs it.
        if not keep:
            _remove_upload(upload)
            Job.objects.filter(pk=job.pk).update(input_file="")
    return {**summary.as_dict(), "message": summary.describe()}


def _remove_upload(upload: Path) -> None:
    if upload.is_dir():
        shutil.rmtree(upload, ignore_errors=True)
    else:
        upload.unlink(missing_ok=True)


def checked_file_waiting(job: Job, user) -> bool:
    """Whether ``job`` is a passed dry run by ``user`` whose file is still here to be imported."""
    return (
        job.kind in IMPORT_KINDS
        and job.state == Job.State.DONE
        and bool((job.params or {}).get("dry_run"))
        and job.created_by_id == getattr(user, "pk", None)
        and bool(job.input_file)
        and Path(job.input_file).exists()
    )


def import_checked_file(job: Job, actor: User) -> Job:
    """Import the file a dry run checked, as a new job: only its starter may, once (the file moves to the new job,
    which deletes it when it ends). The file is checked again — the register may have changed since."""
    if not may_import(actor, sync_national=job.kind == SYNC_KIND):
        raise DomainError(
            "您的角色不能导入农户" if job.kind == IMPORT_KIND else "您的角色不能选择“与国家系统同步”"
        )
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if not checked_file_waiting(locked, actor):
            raise DomainError("该试导入的文件已不在（已正式导入、已超过保存期限或不是您上传的），请重新上传")
        shown = (locked.params or {}).get("display_name") or Path(locked.input_file).name
        sync = locked.kind == SYNC_KIND
        new = job_start(
            kind=locked.kind,
            title=f"导入农户{'（与国家系统同步）' if sync else ''}：{shown}"[:200],
            actor=actor,
            params={"dry_run": False, "display_name": shown, "checked_by_job": locked.pk},
            region_code=locked.region_code,
            input_file=locked.input_file,
        )
        Job.objects.filter(pk=locked.pk).update(input_file="")
    return new


@job_handler(EXPORT_KIND, page="transfer:job")
def run_households_export(job: Job, progress) -> dict:
    from .exporter import households_export

    params = job.params or {}
    if job.created_by is None:
        raise DomainError("导出任务缺少发起人")
    suffix = ".csv" if params.get("format") == "csv" else ".xlsx"
    path = private_file(media_dir("exports") / f"export-{job.pk}-{secrets.token_hex(8)}{suffix}")
    query = QueryDict(mutable=True)
    for key, value in (params.get("filters") or {}).items():
        query[key] = value
    summary = households_export(
        actor=job.created_by,
        path=path,
        params=query,
        reveal_ids=bool(params.get("reveal_ids")),
        members=bool(params.get("members")),
        progress=progress,
    )
    Job.objects.filter(pk=job.pk).update(output_file=str(path))
    text = f"已导出农户 {summary.households} 户" + (f"、成员 {summary.members} 人" if summary.members else "")
    return {"households": summary.households, "members": summary.members, "message": text + "。"}


@job_handler(RECOMPUTE_KIND)
def run_households_recompute(job: Job, progress) -> dict:
    from .recompute import recompute_job

    return recompute_job(job, progress)
