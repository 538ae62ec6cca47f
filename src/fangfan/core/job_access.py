"""Who may see a background job — its row in the job list, its page, its list of problems — and download its file.

One rule for all of them, checked at the moment of asking, not when the job was started: a user sees a job only if
they may *now* do the action that produced it (``household.import`` for an import, ``household.export`` for an
export, ...) in the job's region, and — for the jobs whose file holds more than that action shows, such as an
export with whole ID numbers — the further actions that needs (``household.view_id``). The user who started a job
of no region (the whole system) sees it while they hold those rights. A kind of job without a rule is seen by
nobody (deny by default): each app registers its kinds (``job_rule``) next to their handlers.

Every file served from a job goes through ``job_file_response``, which checks the same rule and records the
download in the audit log (the job and its kind; never the file's content).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_
from pathlib import Path
from typing import Any

from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404

from . import audit
from .models import Job


@dataclass(frozen=True)
class JobRule:
    action: str  # the action that produced the job; a user must hold it now, in the job's region
    needs: tuple[tuple[str, Q], ...] = ()  # (action, the jobs of the kind that need it too)


_RULES: dict[str, JobRule] = {}


def job_rule(kind: str, *, action: str, needs: dict[str, Q] | None = None) -> None:
    """Register who may see jobs of ``kind``: those who may do ``action``; ``needs`` maps a further action to the
    jobs of the kind that require it as well, e.g. ``{"household.view_id": Q(params__reveal_ids=True)}``."""
    _RULES[kind] = JobRule(action=action, needs=tuple((needs or {}).items()))


def job_rule_for(kind: str) -> JobRule | None:
    return _RULES.get(kind)


def _signed_in(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)


def visible_jobs(user: Any, queryset: QuerySet[Job] | None = None) -> QuerySet[Job]:
    """The jobs ``user`` may see now (the rule above), as a queryset."""
    queryset = Job.objects.all() if queryset is None else queryset
    if not _signed_in(user):
        return queryset.none()
    kinds = []
    for kind, rule in _RULES.items():
        if not user.can(rule.action):
            continue
        condition = Q(kind=kind)
        for action, jobs in rule.needs:
            if not user.can(action):
                # A subquery rather than ``~jobs``: NOT over a JSON key would also drop the rows without the key.
                condition &= ~Q(pk__in=Job.objects.filter(jobs).values("pk"))
        kinds.append(condition)
    if not kinds:
        return queryset.none()
    where = Q(region_code="", created_by=user)
    span = user.jurisdiction_range()
    if span is not None:
        where |= Q(region_code__gte=span[0], region_code__lt=span[1])
    return queryset.filter(reduce(or_, kinds) & where)


def job_access(user: Any, job: Job | None) -> bool:
    """Whether ``user`` may see ``job`` (and so download its files) now."""
    return job is not None and visible_jobs(user).filter(pk=job.pk).exists()


def job_file_response(*, user: Any, job: Job, path: str, filename: str, file: str = "result") -> FileResponse:
    """Serve one file of ``job`` to ``user``: 404 unless the user may see the job now and the file is there; each
    download is an audit event (``job.downloaded``, naming the job, its kind and which of its files)."""
    if not path or not job_access(user, job):
        raise Http404
    source = Path(path)
    if not source.is_file():
        raise Http404
    handle = source.open("rb")
    audit.record(
        user,
        "job.downloaded",
        job,
        after={"kind": job.kind, "file": file},
        object_label=f"任务 {job.pk}",
    )
    return FileResponse(handle, as_attachment=True, filename=filename)
