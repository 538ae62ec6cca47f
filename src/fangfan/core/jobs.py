"""Long work in the background with progress a person can watch (imports, exports, screening).

A service calls ``job_start(kind=..., ...)``: it creates a ``Job`` row and, once the transaction commits, enqueues
``run_job`` on Django's task framework (the ``django_tasks_db`` backend; a ``fangfan db_worker`` process runs it;
tests use the immediate backend). The handler registered for the kind receives the job and a ``progress``
callback; what it returns is stored as the job's result. Errors a user can act on (DomainError) end the job as
failed with that Chinese message; anything else is logged with the job id only (no personal data).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from .errors import DomainError, ValidationFailed
from .models import Job

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]
JobHandler = Callable[[Job, Progress], dict]
_HANDLERS: dict[str, JobHandler] = {}
_PAGES: dict[str, str] = {}


def job_handler(kind: str, *, page: str = "") -> Callable[[JobHandler], JobHandler]:
    """Register the function that does the work of one kind of job. ``page``: the URL name (taking the job's pk)
    of the kind's own page — an import's list of problems, an export's download — where the job list sends a
    user; without it, the generic job page."""

    def register(fn: JobHandler) -> JobHandler:
        _HANDLERS[kind] = fn
        if page:
            _PAGES[kind] = page
        return fn

    return register


def job_page(kind: str) -> str:
    """The URL name of the kind's own page, or "" for the generic one."""
    return _PAGES.get(kind, "")


def job_start(
    *, kind: str, title: str, actor, params: dict | None = None, region_code: str = "", input_file: str = ""
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
        now = time.monotonic()
        if now - last[0] < 0.5 and done < total:
            return
        last[0] = now
        Job.objects.filter(pk=job.pk).update(progress=done, total=total, message=message[:500])

    return progress


def job_run_now(job: Job) -> Job:
    """Run a job in this process (the worker calls this; so can a command that wants to wait)."""
    handler = _HANDLERS.get(job.kind)
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING, started_at=timezone.now())
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
            state=Job.State.FAILED, message=exc.message, finished_at=timezone.now()
        )
    except Exception:
        log.exception("job %s (%s) failed", job.pk, job.kind)
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.FAILED,
            message="任务运行出错，请联系系统管理员查看日志",
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job


@task
def run_job(job_id: int) -> None:
    job_run_now(Job.objects.get(pk=job_id))
