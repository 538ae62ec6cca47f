"""Platform pages: the audit log (read-only, for the audit administrator), background jobs, error pages.

Nothing here edits an audit event: there is no edit view, and the list answers only GET/HEAD.
"""

from __future__ import annotations

import tempfile
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from . import jobs, selectors, services
from .audit import verify_chain
from .audit_labels import action_label
from .errors import DomainError
from .jobs import job_page
from .models import Job
from .permissions import requires

AUDIT_PAGE_SIZE = 50
JOB_PAGE_SIZE = 30

# How an action code reads in Chinese: the verb after the last dot, and the object's model name.
VERB_LABELS = {
    "created": "新增",
    "updated": "修改",
    "deleted": "删除",
    "cancelled": "作废",
    "imported": "导入",
    "exported": "导出",
    "password_reset": "重置密码",
    "password_changed": "修改密码",
    "unlocked": "解锁",
    "login": "登录",
    "logout": "退出",
    "login_failed": "登录失败",
    "approved": "审批通过",
    "rejected": "退回",
    "submitted": "提交",
    "identified": "认定",
    "eliminated": "风险消除",
    "screened": "筛查",
    "verified": "核实",
    "purged": "到期删除",
}


class AuditFilterForm(forms.Form):
    action = forms.CharField(label="操作", required=False, max_length=80)
    username = forms.CharField(label="操作账号", required=False, max_length=150)
    date_from = forms.DateField(
        label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
        self.fields["action"].widget.attrs["placeholder"] = "如 user.created 或 auth."
        self.fields["username"].widget.attrs["placeholder"] = "账号"

    def values(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "action_code": data.get("action") or "",
            "username": data.get("username") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }


def _user(request: HttpRequest) -> Any:
    """The signed-in account (the accounts app's User, which core cannot import; ``@requires`` checked it)."""
    return request.user


def _int_param(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    return int(raw) if raw.isdigit() else None


def _action_label(action: str) -> str:
    """The action's Chinese name (``core.audit_labels``); a code it does not know is named by its verb."""
    verb = action.rsplit(".", 1)[-1]
    return action_label(action) or VERB_LABELS.get(verb, "")


@requires("audit.view")
@require_safe
def audit_list(request: HttpRequest) -> HttpResponse:
    filters = AuditFilterForm(request.GET or None)
    events = selectors.audit_events(request.user, **filters.values())
    page = selectors.keyset_page(
        events, before=_int_param(request, "before"), after=_int_param(request, "after"), size=AUDIT_PAGE_SIZE
    )
    roles = selectors.role_labels()
    names = selectors.region_names(e.region_code for e in page.items)
    for event in page.items:
        event.role_label = roles.get(event.actor_role, event.actor_role)
        event.region_name = names.get(event.region_code, "")
        event.action_label = _action_label(event.action)
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    return render(
        request,
        "core/audit_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "can_export": _user(request).can("audit.export"),
        },
    )


@requires("audit.view")
@require_safe
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Recompute every link of the chain (the whole table, not only the user's part: a break anywhere matters)."""
    checked, broken = verify_chain()
    context = {"checked": checked, "broken": broken, "at": timezone.now()}
    if request.headers.get("HX-Request"):
        return render(request, "core/audit_verify.html#result", context)
    return render(request, "core/audit_verify.html", context)


@requires("audit.export")
@require_safe
def audit_export(request: HttpRequest) -> FileResponse:
    filters = AuditFilterForm(request.GET or None)
    values = filters.values()
    events = selectors.audit_events(request.user, action="audit.export", **values)
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes (and so deletes) it
    services.audit_log_export(
        actor=request.user,
        events=events,
        target=target,
        filters={k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items() if v},
    )
    target.seek(0)
    name = f"审计日志-{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(
        target,
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@requires("job.view")
@require_safe
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = selectors.jobs_for_user(request.user).order_by("-id")
    state = request.GET.get("state", "")
    if state:
        jobs = jobs.filter(state=state)
    page = Paginator(jobs, JOB_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/job_list.html",
        {"page": page, "query": query.urlencode(), "state": state, "states": Job.State.choices},
    )


@requires("job.view")
@require_safe
def job_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The job and its progress; htmx asks for the progress fragment every second while the job runs."""
    job = selectors.jobs_for_user(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404
    page = job_page(job.kind)
    if page:  # an import's problems, an export's download: on the kind's own page
        return redirect(page, pk=job.pk)
    context = {"job": job, "running": job.state in (job.State.QUEUED, job.State.RUNNING)}
    if request.headers.get("HX-Request"):
        return render(request, "core/job_detail.html#progress", context)
    return render(request, "core/job_detail.html", context)


@requires("job.view")
@require_POST
def job_retry(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The retry button of a failed job (its starter's, while they may still see it): queued again, back to its
    page."""
    job = selectors.jobs_for_user(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404
    try:
        jobs.job_retry(job=job, actor=request.user)
    except (DomainError, PermissionDenied) as exc:
        messages.error(request, getattr(exc, "message", "") or str(exc))
    else:
        messages.success(request, "已重新排队，稍后自动开始运行")
    return redirect(job_page(job.kind) or "core:job_detail", pk=job.pk)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form refused by the CSRF check (settings.CSRF_FAILURE_VIEW): said in Chinese, with what to do — most
    often a page left open past the session, or a form sent from another site. Django's own page was English."""
    return render(
        request,
        "403.html",
        {
            "reason": "页面已过期或来源无法确认，提交未被接受",
            "hint": "请返回上一页，刷新后重新填写提交；如多次出现，请重新登录。",
        },
        status=403,
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)
