"""Long work in the background with progress a person can watch (imports, exports, screening).

A service calls ``job_start(kind=..., ...)``: it creates a ``Job`` row and, once the transaction commits, enqueues
``run_job`` on Django's task framework (the ``django_tasks_db`` backend; a ``fangfan db_worker`` process runs it;
tests use the immediate backend). The handler registered for the kind receives the job and a ``progress``
callback; what it returns is stored as the job's result. Errors a user can act on (DomainError) end the job as
failed with that Chinese message; anything else is logged with the job id only (no personal data).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from .errors import Conflict, DomainError, ValidationFailed
from .models import Job
from .testhooks import checkpoint

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]
JobHandler = Callable[[Job, Progress], dict]
_HANDLERS: dict[str, JobHandler] = {}
_PAGES: dict[str, str] = {}
_NEEDS_INPUT: set[str] = set()


def job_handler(
    kind: str, *, page: str = "", needs_input: bool = False
) -> Callable[[JobHandler], JobHandler]:
    """Register the function that does the work of one kind of job. ``page``: the URL name (taking the job's pk)
    of the kind's own page — an import's list of problems, an export's download — where the job list sends a
    user; without it, the generic job page. ``needs_input``: the job reads its upload (``input_file``), so it can
    run again only while that is kept."""

    def register(fn: JobHandler) -> JobHandler:
        _HANDLERS[kind] = fn
        if page:
            _PAGES[kind] = page
        if needs_input:
            _NEEDS_INPUT.add(kind)
        return fn

    return register


def job_page(kind: str) -> str:
    """The URL name of the kind's own page, or "" for the generic one."""
    return _PAGES.get(kind, "")


def job_start(
    *,
    kind: str,
    title: str,
    actor: Any,
    params: dict | None = None,
    region_code: str = "",
    input_file: str = "",
) -> Job:
    job = Job.objects.create(
        kind=kind,
        title=title,
        params=params or {},
        region_code=region_code,
        input_file=input_file,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    transaction.on_commit(lambda: run_job.enqueue(job.pk))
    return job


def _progress_writer(job: Job) -> Progress:
    last = [0.0]

    def progress(done: int, total: int, message: str = "") -> None:
        if done:
            checkpoint(f"progress:{job.kind}:{message}")  # the kill tests stop a job here (issue 21.3)
        now = time.monotonic()
        if now - last[0] < 0.5 and done < total:
            return
        last[0] = now
        Job.objects.filter(pk=job.pk).update(progress=done, total=total, message=message[:500])

    return progress


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _discard(job: Job, column: str) -> None:
    """Delete the job's file in ``column`` (a file or a folder, only under MEDIA_ROOT) and forget it."""
    path = Job.objects.filter(pk=job.pk).values_list(column, flat=True).first()
    if not path:
        return
    target = Path(path)
    if Path(settings.MEDIA_ROOT).resolve() in target.resolve().parents:
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)
    Job.objects.filter(pk=job.pk).update(**{column: ""})


def _discard_input(job: Job) -> None:
    """A failed job's upload holds personal data and serves nobody now."""
    _discard(job, "input_file")


def _discard_output(job: Job) -> None:
    """What a job that failed had begun to write (a ledger half written) serves nobody and may hold personal
    data."""
    _discard(job, "output_file")


STALE_MESSAGE = (
    "任务未能完成：运行它的后台进程已中止（可能是文件过大或服务重启），未写入任何数据；可点击“重试”重新运行"
)


def _process_gone(worker: str) -> bool:
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's worker: only the time limit tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def stale_running_jobs(*, now: datetime | None = None) -> list[Job]:
    """The jobs still "running" whose worker process is gone (on this machine) or that started longer than
    ``settings.JOB_STALE_HOURS`` ago."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.JOB_STALE_HOURS)
    stale = []
    for job in Job.objects.filter(state=Job.State.RUNNING).only("pk", "result", "started_at"):
        worker = (job.result or {}).get("worker", "") if isinstance(job.result, dict) else ""
        if (job.started_at and job.started_at < cutoff) or (worker and _process_gone(worker)):
            stale.append(job)
    return stale


def jobs_fail_stale(*, now: datetime | None = None) -> int:
    """End as failed the jobs left "running" by a worker that died (its process is gone) or that have run longer
    than ``settings.JOB_STALE_HOURS``, and delete what they had begun to write. Their uploads are kept for a retry
    (``job_retry``) until ``purge-files`` removes them with the other files past the retention period. Called
    when a worker starts, before each job it runs, and by ``purge-files``. Returns how many."""
    stale = stale_running_jobs(now=now)
    for job in stale:
        updated = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
            state=Job.State.FAILED, message=STALE_MESSAGE, result={}, finished_at=timezone.now()
        )
        if updated:
            log.warning("job %s marked failed: its worker is gone or it ran too long", job.pk)
            _discard_output(job)
    return len(stale)


def job_run_now(job: Job) -> Job:
    """Run a job in this process (the worker calls this; so can a command that wants to wait). Whatever happens
    in the handler, the job ends as done or failed; a failed job's upload is deleted."""
    handler = _HANDLERS.get(job.kind)
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING, started_at=timezone.now(), result={"worker": _worker()}
    )
    try:
        if handler is None:
            raise DomainError(f"未知的任务类型：{job.kind}")
        result = handler(job, _progress_writer(job)) or {}
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.DONE, result=result, finished_at=timezone.now(), message=result.get("message", "")
        )
    except ValidationFailed as exc:
        # Only the count: a problem quotes the cell (a mistyped ID number, a name), and the job row outlives the
        # retention of files (``purge-files``). A handler that lists problems writes them to a file of its own.
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.FAILED,
            message=exc.message,
            result={"problem_count": len(exc.problems)},
            finished_at=timezone.now(),
        )
    except DomainError as exc:
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.FAILED, message=exc.message, result={}, finished_at=timezone.now()
        )
    except Exception:
        log.exception("job %s (%s) failed", job.pk, job.kind)
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.FAILED,
            message="任务运行出错，请联系系统管理员查看日志",
            result={},
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    if job.state == Job.State.FAILED and job.input_file:
        _discard_input(job)
        job.refresh_from_db()
    return job


def job_retryable(job: Job) -> bool:
    """Whether a job can run again: it failed, and an import still has its upload."""
    if job.state != Job.State.FAILED or job.kind not in _HANDLERS:
        return False
    return job.kind not in _NEEDS_INPUT or bool(job.input_file and Path(job.input_file).exists())


def job_may_retry(user: Any, job: Job) -> bool:
    """The retry button: the job can run again, ``user`` started it and may still see it (``job_access``: the
    action that produced it, in its region, now)."""
    from .job_access import job_access

    return (
        job_retryable(job)
        and job.created_by_id is not None
        and job.created_by_id == getattr(user, "pk", None)
        and job_access(user, job)
    )


def job_retry(*, job: Job, actor: Any) -> Job:
    """Queue a failed job again, as it was started (its kind, parameters, region and upload): only by the user
    who started it, while they still hold the right to it. Audited (``job.retried``)."""
    from . import audit
    from .job_access import job_access

    if (
        job.created_by_id is None
        or job.created_by_id != getattr(actor, "pk", None)
        or not job_access(actor, job)
    ):
        raise PermissionDenied("只有任务的发起人（且仍有相应权限）可以重试")
    if job.state != Job.State.FAILED:
        raise Conflict("只有失败的任务可以重试")
    if not job_retryable(job):
        raise Conflict("上传的文件已删除，无法重试；请重新上传文件")
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, state=Job.State.FAILED).update(
            state=Job.State.QUEUED,
            progress=0,
            total=0,
            message="",
            result={},
            started_at=None,
            finished_at=None,
        )
        if not updated:
            raise Conflict("只有失败的任务可以重试")
        audit.record(actor, "job.retried", job, after={"kind": job.kind}, object_label=f"任务 {job.pk}")
        transaction.on_commit(lambda: run_job.enqueue(job.pk))
    job.refresh_from_db()
    return job


@task
def run_job(job_id: int) -> None:
    try:
        jobs_fail_stale()  # the jobs a killed worker left "running" (issue 16)
    except Exception:
        log.exception("checking for stale jobs failed")
    job = Job.objects.filter(pk=job_id).first()
    if job is not None and job.state == Job.State.QUEUED:
        job_run_now(job)
