"""台账 pages: the list of ledgers, one ledger paged on the server with its filters (place, month), its Excel —
written at once for a small one, as a background job with a progress bar over ``INLINE_LIMIT`` rows."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from fangfan.core.errors import DomainError
from fangfan.core.job_access import job_access, job_file_response
from fangfan.core.jobs import job_start
from fangfan.core.models import Job
from fangfan.core.permissions import requires
from fangfan.regions.codes import Level
from fangfan.regions.models import Region

from .ledgers import ledger_get, ledgers_for
from .ledgers.base import Ledger, LedgerScope, scope_build
from .ledgers.jobs import JOB_KIND
from .ledgers.writer import ledger_title, ledger_write, may_reveal

PAGE_SIZE = 50
INLINE_LIMIT = 5000  # rows: a village's or a town's ledger is written at once, a county's as a job


class LazyRows:
    """The ledger's rows as Django's Paginator wants them: a count and a slice, read only for the page shown."""

    def __init__(self, ledger: Ledger, scope: LedgerScope):
        self.ledger, self.scope = ledger, scope
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self.ledger.count(self.scope)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice):
            raise TypeError("LazyRows takes slices")
        start = key.start or 0
        stop = key.stop if key.stop is not None else self.count()
        rows = self.ledger.rows(self.scope, offset=start, limit=max(stop - start, 0))
        return [[n, *row] for n, row in enumerate(rows, start=start + 1)]


def place_choices(user) -> list[tuple[str, str]]:
    """The towns and villages of the user's jurisdiction (code, name, indented by level) for the filter."""
    span = user.jurisdiction_range()
    if span is None:
        return []
    qs = Region.objects.filter(level__in=(Level.TOWN, Level.VILLAGE), code__gte=span[0], code__lt=span[1])
    return [
        (code, name if level == Level.TOWN else f"　{name}")
        for code, name, level in qs.order_by("code").values_list("code", "name", "level")
    ]


def _ledger_or_404(user, code: str) -> Ledger:
    ledger = ledger_get(code)
    if ledger is None or not ledger.may_read(user):
        raise Http404
    return ledger


def _scope(request, *, reveal: bool = False) -> tuple[LedgerScope, dict]:
    data = request.POST if request.method == "POST" else request.GET
    place = (data.get("place") or "").strip()
    month = (data.get("month") or "").strip()
    try:
        scope = scope_build(
            request.user, region=place or "", month=month, reveal_ids=reveal, today=timezone.localdate()
        )
    except DomainError as exc:
        raise Http404 from exc  # outside the jurisdiction: as if it did not exist
    return scope, {k: v for k, v in (("place", place), ("month", month)) if v}


@requires("dashboard.view")
@require_safe
def ledger_index(request):
    """台账: the ledgers the user may read, each with a line on what it holds."""
    return render(request, "reports/ledger_index.html", {"ledgers": ledgers_for(request.user)})


@requires("dashboard.view")
@require_safe
def ledger_page(request, code: str):
    """One ledger, paged on the server (a county's monitored households are read a page at a time)."""
    user = request.user
    ledger = _ledger_or_404(user, code)
    scope, applied = _scope(request)
    if ledger.monthly and scope.first is None:
        today = timezone.localdate()
        scope = scope_build(user, region=scope.region, month=f"{today:%Y-%m}", today=today)
    page = Paginator(LazyRows(ledger, scope), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/ledger.html",
        {
            "ledger": ledger,
            "ledgers": ledgers_for(user),
            "title": ledger_title(ledger, scope),
            "page": page,
            "query": urlencode(applied),
            "applied": applied,
            "places": place_choices(user),
            "month": applied.get("month") or (f"{scope.first:%Y-%m}" if scope.first else ""),
            "can_export": ledger.may_export(user),
            "can_reveal": ledger.has_ids and may_reveal(user),
            "inline_limit": INLINE_LIMIT,
        },
    )


@requires("household.export")
@require_POST
def ledger_export(request, code: str):
    """The ledger as .xlsx: at once up to ``INLINE_LIMIT`` rows, else a job whose page shows its progress."""
    user = request.user
    ledger = _ledger_or_404(user, code)
    if not ledger.may_export(user):
        raise Http404
    reveal = request.POST.get("reveal_ids") == "1"
    if reveal and not may_reveal(user):
        reveal = False
    scope, applied = _scope(request, reveal=reveal)
    if ledger.monthly and scope.first is None:
        scope = scope_build(user, region=scope.region, month=f"{timezone.localdate():%Y-%m}")
    count = ledger.count(scope)
    if count > INLINE_LIMIT:
        job = job_start(
            kind=JOB_KIND,
            title=f"导出{ledger.title}",
            actor=user,
            region_code=scope.place or user.region_id or "",
            params={
                "ledger": ledger.code,
                "region": scope.region,
                "month": f"{scope.first:%Y-%m}" if scope.first else "",
                "reveal_ids": bool(scope.reveal_ids),
            },
        )
        return redirect("reports:ledger_job", pk=job.pk)
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes (and so deletes) it
    ledger_write(ledger, scope, target, total=count)
    target.seek(0)
    stamp = f"{scope.first:%Y%m}" if scope.first else f"{timezone.localdate():%Y%m%d}"
    return FileResponse(
        target,
        as_attachment=True,
        filename=f"{ledger.title}-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _job_or_404(request, pk: int) -> Job:
    job = Job.objects.filter(pk=pk, kind=JOB_KIND).first()
    if job is None or not job_access(request.user, job):
        raise Http404
    return job


@requires("household.export")
@never_cache
def ledger_job(request, pk: int):
    """A ledger job: its progress (htmx asks every second while it runs), then the file."""
    job = _job_or_404(request, pk)
    context = {
        "job": job,
        "running": job.state in (job.State.QUEUED, job.State.RUNNING),
        "has_file": job.state == job.State.DONE and bool(job.output_file) and Path(job.output_file).exists(),
    }
    if request.headers.get("HX-Request"):
        return render(request, "reports/ledger_job.html#status", context)
    return render(request, "reports/ledger_job.html", context)


@requires("household.export")
@require_safe
def ledger_job_download(request, pk: int):
    job = _job_or_404(request, pk)
    if job.state != job.State.DONE:
        raise Http404
    return job_file_response(
        user=request.user, job=job, path=job.output_file, filename=f"{job.title[2:]}-{job.pk}.xlsx"
    )
