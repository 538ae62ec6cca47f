"""How long generated files are kept: exported 农户清单, import error lists and leftover uploads under MEDIA_ROOT
hold names and ID numbers, so they are deleted once they are older than ``settings.FILE_RETENTION_DAYS``
(``fangfan purge-files``, run from cron). A job whose file is gone keeps its row and its summary; its page says the
file has been removed. Files of jobs still queued or running are never touched."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from . import audit
from .jobs import STALE_MESSAGE, _discard_input, jobs_fail_stale
from .models import Job


@dataclass
class PurgeSummary:
    days: int
    files: int = 0
    folders: int = 0
    jobs: int = 0
    bytes: int = 0
    stale_jobs: int = 0  # left "running" by a worker that died, now failed
    uploads: int = 0  # uploads of failed jobs, deleted whatever their age

    def describe(self) -> str:
        size = (
            f"{self.bytes / 1024 / 1024:.1f} MB" if self.bytes >= 1024 * 1024 else f"{self.bytes // 1024} KB"
        )
        text = (
            f"已删除超过 {self.days} 天的文件 {self.files} 个、上传文件夹 {self.folders} 个（共 {size}），"
            f"涉及后台任务 {self.jobs} 个"
        )
        if self.stale_jobs:
            text += f"；{self.stale_jobs} 个后台任务的进程已中止，已标记为失败"
        if self.uploads:
            text += f"；删除失败任务的上传文件 {self.uploads} 个"
        return text


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def purge_files(*, days: int | None = None, actor: Any, now: datetime | None = None) -> PurgeSummary:
    """Delete what lies directly in MEDIA_ROOT's folders (a file, or an upload's folder of CSV files) and was last
    changed more than ``days`` days ago; clear the jobs' references to it; record one audit event."""
    days = settings.FILE_RETENTION_DAYS if days is None else days
    if days < 0:
        raise ValueError("保存天数不能为负数")
    summary = PurgeSummary(days=days)
    # A job a killed worker left "running" ends as failed (jobs_fail_stale); its upload stays for a retry until
    # the retention period is over (below). The upload of any other failed job is deleted now.
    summary.stale_jobs = jobs_fail_stale(now=now)
    failed = Job.objects.filter(state=Job.State.FAILED).exclude(input_file="").exclude(message=STALE_MESSAGE)
    for job in failed:
        summary.bytes += _size(Path(job.input_file)) if Path(job.input_file).exists() else 0
        _discard_input(job)
        summary.uploads += 1
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return summary
    cutoff = ((now or timezone.now()) - timedelta(days=days)).timestamp()
    busy = Job.objects.filter(state__in=[Job.State.QUEUED, Job.State.RUNNING])
    in_use = {p for pair in busy.values_list("input_file", "output_file") for p in pair if p}
    removed: list[str] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for entry in sorted(folder.iterdir()):
            if str(entry) in in_use or entry.stat().st_mtime >= cutoff:
                continue
            summary.bytes += _size(entry)
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
                summary.folders += 1
            else:
                entry.unlink(missing_ok=True)
                summary.files += 1
            removed.append(str(entry))
    if removed:
        jobs = Job.objects.filter(Q(output_file__in=removed) | Q(input_file__in=removed))
        summary.jobs = jobs.count()
        for field in ("output_file", "input_file"):
            Job.objects.filter(**{f"{field}__in": removed}).update(**{field: ""})
    if removed or summary.uploads or summary.stale_jobs:
        extra = {"stale_jobs": summary.stale_jobs, "failed_uploads": summary.uploads}
        audit.record(
            actor,
            "files.purged",
            object_type="core.file",
            object_label=f"超过 {days} 天的文件",
            region_code=getattr(actor, "region_id", "") or "",
            after={
                "days": days,
                "files": summary.files,
                "folders": summary.folders,
                "jobs": summary.jobs,
                **{k: v for k, v in extra.items() if v},
            },
        )
    return summary
