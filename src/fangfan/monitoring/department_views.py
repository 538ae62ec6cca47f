"""Department data pages (namespace ``department``): batch history, upload, batch detail with the unmatched rows
back to the department, the screening history with the town station's "立即筛查" button, and API tokens.

Thin views: parse input, call one service (``department``, ``screening``, ``tokens``), render. Every query goes
through ``for_user`` — a department user sees only its own source's batches (``DepartmentBatch.narrow_for_user``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from fangfan.core.commands import MAX_PROBLEMS_SHOWN
from fangfan.core.errors import DomainError
from fangfan.core.permissions import requires
from fangfan.core.scoping import get_for_user_or_404
from fangfan.core.selectors import jobs_for_user
from fangfan.core.tabular import Problem
from fangfan.regions.models import Region
from fangfan.registry.jobs import read_problems

from .choices import Source
from .department import (
    SOURCE_COLUMNS,
    source_headers,
    template_export,
    unmatched_export,
    unmatched_rows,
    unmatched_shown_record,
)
from .department_jobs import IMPORT_KIND as DEPARTMENT_IMPORT_KIND
from .department_jobs import department_upload_start
from .models import DepartmentBatch, DepartmentToken, ScreeningRun
from .screening import screening_start
from .tokens import token_issue, token_revoke

IMPORT = "department.import"
SCREEN = "screen.run"
PAGE_SIZE = 30
ALLOWED_SUFFIXES = (".xlsx", ".csv")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SOURCE_CHOICES = [(s, Source(s).label) for s in SOURCE_COLUMNS]


def _sources_for(user) -> list[tuple[str, str]]:
    if user.role == "department":
        return [(s, label) for s, label in SOURCE_CHOICES if s == user.department]
    return SOURCE_CHOICES


class UploadForm(forms.Form):
    source = forms.ChoiceField(label="数据来源", choices=SOURCE_CHOICES)
    file = forms.FileField(
        label="数据文件",
        help_text="Excel（.xlsx）或 CSV 文件；证件号码列须为文本格式",
        error_messages={"empty": "文件是空的，未导入任何数据", "required": "请选择要上传的文件"},
    )
    dry_run = forms.BooleanField(label="只检查和匹配，不写入", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        choices = _sources_for(user)
        self.fields["source"].choices = choices
        if len(choices) == 1:
            self.fields["source"].initial = choices[0][0]
            self.fields["source"].help_text = "部门用户只能报送本部门的数据"
        self.fields["source"].widget.attrs.update({"class": "form-select"})
        self.fields["file"].widget.attrs.update(
            {"class": "form-control", "accept": ",".join(ALLOWED_SUFFIXES)}
        )
        self.fields["dry_run"].widget.attrs.update({"class": "form-check-input"})

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError("只支持 .xlsx 或 .csv 文件")
        return upload


class TokenForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100, help_text="如：县医保局结算系统")
    source = forms.ChoiceField(label="数据来源", choices=SOURCE_CHOICES)
    region = forms.ChoiceField(label="适用区划", help_text="该系统报送的数据只计入此区划内的农户")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        span = user.jurisdiction_range()
        regions = Region.objects.none()
        if span is not None:
            regions = Region.objects.filter(code__gte=span[0], code__lt=span[1], level__lte=4).order_by(
                "code"
            )
        self.fields["region"].choices = [(r.code, f"{r.name}（{r.code}）") for r in regions[:500]]
        self.fields["region"].initial = user.region_id
        for name in ("name",):
            self.fields[name].widget.attrs.update({"class": "form-control"})
        for name in ("source", "region"):
            self.fields[name].widget.attrs.update({"class": "form-select"})


def _flags(user) -> dict:
    return {"can_import": user.can(IMPORT), "can_screen": user.can(SCREEN)}


def _page(request, qs):
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


# --- batches ------------------------------------------------------------------------------------------------------


@requires(IMPORT)
@require_safe
def batch_list(request):
    batches = DepartmentBatch.objects.for_user(request.user, IMPORT).select_related("uploaded_by", "region")
    source = request.GET.get("source", "")
    if source in SOURCE_COLUMNS:
        batches = batches.filter(source=source)
    page, query = _page(request, batches.order_by("-id"))
    return render(
        request,
        "monitoring/department/batch_list.html",
        {
            "page": page,
            "query": query,
            "source": source,
            "sources": _sources_for(request.user),
            **_flags(request.user),
        },
    )


@requires(IMPORT)
@require_http_methods(["GET", "HEAD", "POST"])
def batch_upload(request):
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    context: dict = {
        "form": form,
        "headers": {label: (s, source_headers(s)) for s, label in _sources_for(request.user)},
        **_flags(request.user),
    }
    if request.method == "POST" and form.is_valid():
        # The import runs as a background job; the browser goes to its page (a reload posts nothing again).
        try:
            job = department_upload_start(
                actor=request.user,
                source=form.cleaned_data["source"],
                upload=form.cleaned_data["file"],
                dry_run=form.cleaned_data["dry_run"],
            )
        except DomainError as exc:
            context["error"] = exc.message
        else:
            return redirect("department:batch_job", pk=job.pk)
    context["max_mb"] = settings.DEPARTMENT_MAX_BYTES // (1024 * 1024)
    return render(request, "monitoring/department/batch_upload.html", context)


@requires(IMPORT)
@never_cache
@require_safe
def batch_job(request, pk: int):
    """A department upload's job: progress while it runs (htmx polls), then the batch summary or the problems."""
    job = jobs_for_user(request.user).filter(pk=pk, kind=DEPARTMENT_IMPORT_KIND).first()
    if job is None or (job.params or {}).get("source") not in dict(_sources_for(request.user)):
        raise Http404  # a department user sees its own source's uploads only, as in the batch list
    running = job.state in (job.State.QUEUED, job.State.RUNNING)
    problems = []
    if job.state == job.State.FAILED:
        problems = [str(Problem(**p)) for p in read_problems(job)[:MAX_PROBLEMS_SHOWN]]
    count = (job.result or {}).get("problem_count", len(problems))
    context = {
        "job": job,
        "running": running,
        "summary": job.result if job.state == job.State.DONE else {},
        "problems": problems,
        "more": max(0, count - len(problems)),
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "monitoring/department/batch_job.html#status", context)
    return render(request, "monitoring/department/batch_job.html", context)


@requires(IMPORT)
@require_safe
def batch_template(request):
    allowed = dict(_sources_for(request.user))
    source = request.GET.get("source") or next(iter(allowed))
    if source not in allowed:
        raise Http404
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    template_export(source=source, target=target)
    target.seek(0)
    return FileResponse(
        target, as_attachment=True, filename=f"{Source(source).label}数据导入模板.xlsx", content_type=XLSX
    )


@requires(IMPORT)
@require_safe
def batch_detail(request, pk: int):
    batch = get_for_user_or_404(
        DepartmentBatch.objects.select_related("uploaded_by", "region"), request.user, IMPORT, pk=pk
    )
    runs = (
        ScreeningRun.objects.unscoped().filter(batch=batch).order_by("-id")
    )  # the runs of a batch read in scope
    rows = list(unmatched_rows(batch, limit=100))
    unmatched_shown_record(batch=batch, rows=rows, actor=request.user, via="department_unmatched")
    columns = [c.header for c in SOURCE_COLUMNS[batch.source]]
    for row in rows:
        row["values"] = [row["columns"].get(h, "") for h in columns]
    return render(
        request,
        "monitoring/department/batch_detail.html",
        {"batch": batch, "runs": runs, "rows": rows, "columns": columns, "shown_all": len(rows) < 100},
    )


@requires(IMPORT)
@require_safe
def batch_unmatched(request, pk: int):
    batch = get_for_user_or_404(DepartmentBatch.objects, request.user, IMPORT, pk=pk)
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    unmatched_export(batch=batch, actor=request.user, target=target)
    target.seek(0)
    name = f"{batch.get_source_display()}-批次{batch.pk}-未匹配-{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(target, as_attachment=True, filename=name, content_type=XLSX)


# --- screening ----------------------------------------------------------------------------------------------------


@requires(SCREEN)
@require_safe
def screening_list(request):
    runs = ScreeningRun.objects.for_user(request.user, SCREEN).select_related("started_by", "batch")
    page, query = _page(request, runs.order_by("-id"))
    codes = {r.region_code for r in page}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    for run in page:
        run.region_name = names.get(run.region_code, run.region_code or "全部地区")
        run.rules = [item for item in run.per_rule.values() if item.get("new")]
    return render(
        request,
        "monitoring/department/screening_list.html",
        {"page": page, "query": query, **_flags(request.user)},
    )


@requires(SCREEN)
@require_http_methods(["GET", "HEAD", "POST"])
def screening_start_view(request):
    """GET: what the button will do; POST: start the screening of the user's jurisdiction in the background."""
    if request.method == "POST":
        try:
            job = screening_start(actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("department:screening_list")
        messages.success(request, "已开始筛查，可在此查看进度")
        return redirect("core:job_detail", pk=job.pk)
    return render(request, "monitoring/department/screening_start.html", {"region": request.user.region})


# --- API tokens ---------------------------------------------------------------------------------------------------


@requires(SCREEN)
@require_http_methods(["GET", "HEAD", "POST"])
def token_list(request):
    form = TokenForm(request.POST or None, user=request.user)
    context: dict = {"form": form, **_flags(request.user)}
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = token_issue(
                actor=request.user,
                name=form.cleaned_data["name"],
                source=form.cleaned_data["source"],
                region_code=form.cleaned_data["region"],
            )
        except DomainError as exc:
            context["error"] = exc.message
        else:
            context.update(issued=token, raw=raw, form=TokenForm(user=request.user))
    tokens = DepartmentToken.objects.for_user(request.user, SCREEN).select_related("region", "created_by")
    context["tokens"] = tokens.order_by("-id")[:200]
    return render(request, "monitoring/department/token_list.html", context)


@requires(SCREEN)
@require_http_methods(["GET", "HEAD", "POST"])
def token_revoke_view(request, pk: int):
    token = get_for_user_or_404(DepartmentToken.objects.select_related("region"), request.user, SCREEN, pk=pk)
    if request.method == "POST":
        try:
            token_revoke(actor=request.user, token=token)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已停用接口令牌“{token.name}”")
        return redirect("department:token_list")
    return render(request, "monitoring/department/token_revoke.html", {"token": token})
