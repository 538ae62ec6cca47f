"""Department uploads from the web run as background jobs (security issue 16.5): a 44 MB CSV used to be read
inside the web request (75 s, 1.4 GB). The upload is size-checked, saved privately (0600) under
``MEDIA_ROOT/uploads`` and imported by the worker with the bounded reader (``department.department_limits``); the
browser is sent to the job's page (no form to post again on a reload, issue 17). The upload is deleted when the
job ends, however it ends."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from fangfan.core.errors import DomainError, ValidationFailed
from fangfan.core.job_access import job_rule
from fangfan.core.jobs import job_handler, job_start
from fangfan.core.models import Job
from fangfan.core.privatefiles import open_private, private_folder

if TYPE_CHECKING:
    from fangfan.accounts.models import User

IMPORT_KIND = "department_import"
# Who may see such a job (core.job_access): those who import department data in its region; the batch page narrows
# a department user to its own source's uploads.
job_rule(IMPORT_KIND, action="department.import")
# Registered in every process (monitoring/apps.py); ``department`` (the registry's services, ≈ 0.4 s) is imported
# when a job runs, so that ``fangfan screen`` starts without it.


def uploads_dir() -> Path:
    private_folder(Path(settings.MEDIA_ROOT))
    return private_folder(Path(settings.MEDIA_ROOT) / "uploads")


def save_private(chunks, suffix: str, *, limit: int) -> Path:
    """Write ``chunks`` to a new file only its owner may read (0600), refusing beyond ``limit`` bytes."""
    path = uploads_dir() / f"dept-{secrets.token_hex(16)}{suffix}"
    written = 0
    try:
        with open_private(path) as out:
            for chunk in chunks:
                written += len(chunk)
                if written > limit:
                    raise ValidationFailed(too_large_message(limit))
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def too_large_message(limit: int) -> str:
    return (
        f"文件过大：部门数据文件最多 {limit // (1024 * 1024)} MB，未导入任何数据；请按月份或乡镇拆分后再报送"
    )


def department_upload_start(*, actor: User, source: str, upload, dry_run: bool) -> Job:
    """Save an uploaded department file and start its import as a job (checks of role and source run again in
    the job, by ``department_import``)."""
    from .department import source_label

    if not actor.can("department.import"):
        raise DomainError("您的角色无权导入部门数据")
    limit = settings.DEPARTMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationFailed(too_large_message(limit))
    if upload.size == 0:
        raise ValidationFailed(f"{Path(upload.name).name}：文件是空的，未导入任何数据")
    shown = Path(upload.name).name[:100]
    path = save_private(upload.chunks(), Path(upload.name).suffix.lower(), limit=limit)
    return job_start(
        kind=IMPORT_KIND,
        title=f"{'检查' if dry_run else '导入'}{source_label(source)}数据：{shown}"[:200],
        actor=actor,
        params={"source": source, "dry_run": dry_run, "display_name": shown},
        region_code=actor.region_id or "",
        input_file=str(path),
    )


@job_handler(IMPORT_KIND, page="department:batch_job", needs_input=True)
def run_department_import(job: Job, progress) -> dict:
    from fangfan.registry.jobs import write_problems

    from .department import department_import  # (registry's services: loaded when a job runs, not at start)

    params = job.params or {}
    upload = Path(job.input_file)
    try:
        progress(0, 1, "正在读取文件")
        summary = department_import(
            source=params.get("source", ""),
            path=upload,
            actor=job.created_by,
            dry_run=bool(params.get("dry_run")),
            channel="web",
            display_name=params.get("display_name") or upload.name,
        )
    except ValidationFailed as exc:
        if exc.problems:
            path = write_problems(job, exc.problems)
            Job.objects.filter(pk=job.pk).update(output_file=str(path))
        raise
    finally:
        upload.unlink(missing_ok=True)
        Job.objects.filter(pk=job.pk).update(input_file="")
    head = "检查通过（未写入）" if summary.dry_run else "导入完成"
    message = f"{head}：读取 {summary.rows} 行，已匹配 {summary.matched} 行，未匹配 {summary.unmatched} 行"
    return {**summary.as_dict(), "message": message}
