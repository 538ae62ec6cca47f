"""Household import and export pages (namespace ``transfer``): upload a workbook and watch the import job, download
the template, export the household list.

Thin: uploads are saved under ``MEDIA_ROOT/uploads/`` with a random name and handed to a background job
(``registry.jobs``); the status page polls itself with htmx every second until the job ends. A job's page, problems
and files follow ``core.job_access``: only a user who may now do what produced the job, in its region (an export
with whole ID numbers only to one who may see them); every file downloaded is audited.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from fangfan.core.errors import DomainError
from fangfan.core.job_access import job_file_response
from fangfan.core.jobs import job_start
from fangfan.core.permissions import requires, requires_any
from fangfan.core.privatefiles import open_private, private_file, private_folder
from fangfan.core.selectors import jobs_for_user

from . import jobs as registry_jobs
from .exporter import households_export, households_queryset
from .filters import list_params
from .template import TEMPLATE_FILENAME, households_template

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DIRECT_EXPORT_LIMIT = 5000
FILTER_KEYS = (
    "village",
    "area",
    "category",
    "household_type",
    "exited_class",
    "monitoring_type",
    "monitoring_state",
    "suggestion",
    "differs",
    "at_risk",
    "below_line",
    "helper",
    "no_helper",
    "needs_helper",
    "cancelled",
    "q",
    "sort",
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SAFE = re.compile(r"[^\w\u4e00-\u9fff.\-（）()]+")


def _safe_name(name: str, suffix: str) -> str:
    stem = _SAFE.sub("_", Path(name).stem)[:60] or "data"
    return f"{stem}{suffix}"


def _save_upload(files) -> tuple[Path, str]:
    """Save the uploaded file(s) under MEDIA_ROOT/uploads with a random name: one .xlsx as a file, CSV files in a
    folder of their own. Returns (path for the importer, name shown to people)."""
    uploads = registry_jobs.media_dir("uploads")
    token = secrets.token_hex(16)
    if len(files) == 1 and Path(files[0].name).suffix.lower() == ".xlsx":
        path = uploads / f"{token}.xlsx"
        with open_private(path) as out:
            for chunk in files[0].chunks():
                out.write(chunk)
        return path, Path(files[0].name).name[:100]
    folder = private_folder(uploads / token)
    used: set[str] = set()
    for upload in files:
        name = _safe_name(upload.name, ".csv")
        while name in used:
            name = f"_{name}"
        used.add(name)
        with open_private(folder / name) as out:
            for chunk in upload.chunks():
                out.write(chunk)
    return folder, "、".join(Path(f.name).name[:60] for f in files)[:100]


def _check_uploads(files) -> str | None:
    if not files:
        return "请选择要导入的文件"
    suffixes = [Path(f.name).suffix.lower() for f in files]
    if any(s not in (".xlsx", ".csv") for s in suffixes):
        return "只能导入 .xlsx 或 .csv 文件"
    if ".xlsx" in suffixes and len(files) > 1:
        return "请只上传一个 .xlsx 文件（内含“户信息”“成员信息”两张表），或上传两个 CSV 文件"
    if len(files) > 2:
        return "最多上传两个 CSV 文件（户信息.csv 和 成员信息.csv）"
    if sum(f.size for f in files) > MAX_UPLOAD_BYTES:
        return "文件不能超过 50 MB；更大的文件请由管理员用命令 fangfan import-households 导入"
    return None


SYNC_REFUSED = "“与国家系统同步”只能由镇扶贫工作站或市县审核的用户选择，您的角色不能选择；文件未导入"
SYNC_ONLY = "您的角色只能以“与国家系统同步”方式导入：请勾选该项"


@requires_any("household.import", "household.sync_national")
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def import_page(request):
    """Upload the household workbook (or its two CSV files); the import runs as a background job. 与国家系统同步
    (``household.sync_national``: the town station, the county — whose only way to import it is) applies the
    file's official status fields too; anyone else who sends it is refused and nothing is imported."""
    error, status = None, 400
    user = request.user
    if request.method == "POST":
        files = request.FILES.getlist("file")
        sync = request.POST.get("sync_national") == "1"
        if not registry_jobs.may_import(user, sync_national=sync):
            # Choosing 与国家系统同步 without the right is refused (403); the county leaving it out is a form error.
            error, status = (SYNC_REFUSED, 403) if sync else (SYNC_ONLY, 400)
        else:
            error = _check_uploads(files)
        if error is None:
            path, shown = _save_upload(files)
            dry_run = request.POST.get("dry_run") == "1"
            what = "农户（与国家系统同步）" if sync else "农户"
            job = job_start(
                kind=registry_jobs.import_kind(sync),
                title=f"{'试导入' if dry_run else '导入'}{what}：{shown}"[:200],
                actor=user,
                params={"dry_run": dry_run, "display_name": shown},
                region_code=user.region_id or "",
                input_file=str(path),
            )
            return redirect("transfer:job", pk=job.pk)
    recent = jobs_for_user(user).filter(kind__in=registry_jobs.IMPORT_KINDS, created_by=user)[:10]
    return render(
        request,
        "registry/transfer/import.html",
        {
            "error": error,
            "recent": recent,
            "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
            "retention_days": settings.FILE_RETENTION_DAYS,
            "may_sync": user.can("household.sync_national"),
            "sync_only": not user.can("household.import"),
        },
        status=status if error else 200,
    )


@requires_any("household.import", "household.sync_national")
@require_http_methods(["GET", "HEAD"])
def template_download(request):
    response = HttpResponse(households_template(), content_type=XLSX)
    response["Content-Disposition"] = _disposition(TEMPLATE_FILENAME)
    return response


def _disposition(filename: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"households.xlsx\"; filename*=UTF-8''{quote(filename)}"


def _job_or_404(request, pk: int):
    job = jobs_for_user(request.user).filter(pk=pk, kind__in=registry_jobs.KINDS).first()
    if job is None:
        raise Http404
    return job


@requires("job.view")
@never_cache
@require_http_methods(["GET", "HEAD"])
def job_status(request, pk: int):
    """An import or export job: progress while it runs (htmx polls every second), then the summary, or the list of
    problems of a file that could not be imported."""
    job = _job_or_404(request, pk)
    running = job.state in (job.State.QUEUED, job.State.RUNNING)
    problems = []
    if job.state == job.State.FAILED and job.kind in registry_jobs.IMPORT_KINDS:
        problems = registry_jobs.read_problems(job)
    context = {
        "job": job,
        "running": running,
        "is_import": job.kind in registry_jobs.IMPORT_KINDS,
        "summary": job.result if job.state == job.State.DONE else {},
        "problems": problems,
        "problem_count": (job.result or {}).get("problem_count", len(problems)),
        "has_file": bool(job.output_file) and Path(job.output_file).exists(),
        "checked_file_waiting": registry_jobs.checked_file_waiting(job, request.user)
        and registry_jobs.may_import(request.user, sync_national=job.kind == registry_jobs.SYNC_KIND),
        "retention_days": settings.FILE_RETENTION_DAYS,
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "registry/transfer/job.html#status", context)
    return render(request, "registry/transfer/job.html", context)


@requires_any("household.import", "household.sync_national")
@require_http_methods(["POST"])
def import_checked(request, pk: int):
    """Import the file a passed dry run checked, without uploading it again: a new job."""
    job = _job_or_404(request, pk)
    try:
        new = registry_jobs.import_checked_file(job, request.user)
    except DomainError as exc:
        messages.warning(request, exc.message)
        return redirect("transfer:job", pk=job.pk)
    return redirect("transfer:job", pk=new.pk)


@requires("job.view")
@require_http_methods(["GET", "HEAD"])
def job_problems(request, pk: int):
    """The problems of a failed import as an .xlsx (工作表, 行, 列, 值, 原因): served and audited as every job's file
    (``core.job_access``)."""
    job = _job_or_404(request, pk)
    if job.kind not in registry_jobs.IMPORT_KINDS or job.state != job.State.FAILED:
        raise Http404
    return job_file_response(
        user=request.user,
        job=job,
        path=job.output_file,
        filename=f"导入错误清单-{job.pk}.xlsx",
        file="problems",
    )


@requires("job.view")
@require_http_methods(["GET", "HEAD"])
def job_download(request, pk: int):
    """The file a finished export job wrote: only to a user who may now export it — with whole ID numbers, only to
    one who may see them (``core.job_access``) — and audited."""
    job = _job_or_404(request, pk)
    if job.kind != registry_jobs.EXPORT_KIND or job.state != job.State.DONE:
        raise Http404
    suffix = Path(job.output_file).suffix or ".xlsx"
    return job_file_response(
        user=request.user,
        job=job,
        path=job.output_file,
        filename=f"农户清单-{job.created_at:%Y%m%d}-{job.pk}{suffix}",
    )


def _export_region(user, village: str | None) -> str:
    """The region an export job belongs to (who else may see it): the village filtered on when it lies in the
    user's jurisdiction, otherwise the user's own region."""
    span = user.jurisdiction_range()
    if village and span is not None and span[0] <= village < span[1]:
        return village
    return user.region_id or ""


@requires("household.export")
@never_cache
@require_http_methods(["GET", "HEAD"])
def export(request):
    """农户清单 of the household list's current filters (the list page's query string). Up to 5 000 households
    download at once; more run as a background job whose page offers the file when it is ready."""
    fmt = "csv" if request.GET.get("format") == "csv" else "xlsx"
    reveal = request.GET.get("reveal") == "1"
    members = request.GET.get("members") == "1" and fmt == "xlsx"
    if reveal and not request.user.can("household.view_id"):
        raise PermissionDenied("household.view_id")
    params = list_params(request)  # the list's ``s=`` search token back to its text
    filters = {k: params.get(k) for k in FILTER_KEYS if params.get(k)}
    qs = households_queryset(actor=request.user, params=params)
    if qs.count() > DIRECT_EXPORT_LIMIT:
        job = job_start(
            kind=registry_jobs.EXPORT_KIND,
            title="导出农户清单",
            actor=request.user,
            params={"filters": filters, "format": fmt, "reveal_ids": reveal, "members": members},
            region_code=_export_region(request.user, filters.get("village")),
        )
        messages.info(request, "导出的农户较多，已转为后台任务，完成后可在本页下载。")
        return redirect("transfer:job", pk=job.pk)
    path = private_file(registry_jobs.media_dir("exports") / f"direct-{secrets.token_hex(12)}.{fmt}")
    households_export(
        actor=request.user, path=path, queryset=qs, params=filters, reveal_ids=reveal, members=members
    )
    handle = path.open("rb")
    path.unlink()  # the open handle keeps the data until the response is sent; nothing stays on disk
    return FileResponse(handle, as_attachment=True, filename=f"农户清单-{date.today():%Y%m%d}.{fmt}")
