"""A county's ledger runs as a background job (``core.jobs``) with a progress bar; its page offers the file.

Who sees such a job and its file (``core.job_access``): those who may export household data in its region now,
and — for one with whole ID numbers — who may see them (``household.view_id``)."""

from __future__ import annotations

import secrets

from django.db.models import Q

from fangfan.core.errors import DomainError
from fangfan.core.job_access import job_rule
from fangfan.core.jobs import job_handler
from fangfan.core.models import Job
from fangfan.core.privatefiles import private_file

JOB_KIND = "ledger_export"
job_rule(JOB_KIND, action="household.export", needs={"household.view_id": Q(params__reveal_ids=True)})


@job_handler(JOB_KIND, page="reports:ledger_job")
def run_ledger_export(job: Job, progress) -> dict:
    from fangfan.registry.jobs import media_dir

    from . import ledger_get
    from .base import scope_build
    from .writer import ledger_write

    params = job.params or {}
    ledger = ledger_get(params.get("ledger", ""))
    if ledger is None or job.created_by is None:
        raise DomainError("台账不存在或任务缺少发起人")
    user = job.created_by
    if not ledger.may_export(user):
        raise DomainError(f"账号无权导出{ledger.title}")
    scope = scope_build(
        user,
        region=params.get("region", ""),
        village=params.get("village", ""),
        month=params.get("month", ""),
        reveal_ids=bool(params.get("reveal_ids")),
    )
    path = private_file(media_dir("exports") / f"ledger-{job.pk}-{secrets.token_hex(8)}.xlsx")
    # Named on the job before it is written: a worker killed half-way leaves a file that ``jobs_fail_stale``
    # finds and deletes (it holds personal data); the page offers a file only once the job is done.
    Job.objects.filter(pk=job.pk).update(output_file=str(path))
    try:
        count = ledger_write(ledger, scope, path, progress=progress)
    except BaseException:
        path.unlink(missing_ok=True)
        Job.objects.filter(pk=job.pk).update(output_file="")
        raise
    return {"rows": count, "message": f"已导出{ledger.title} {count} 行。"}
