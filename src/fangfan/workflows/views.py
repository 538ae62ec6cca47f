"""Approval pages: 我的待办 (with batch approval and the 公示 notice), the cases of the jurisdiction, one case (its
steps, conditions, history, files and the form of the step the user acts on), starting a case from the household
page. Thin: parse, call one service or selector, render. A case outside the jurisdiction answers 404."""

from __future__ import annotations

import io
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from fangfan.core import audit
from fangfan.core.errors import DomainError
from fangfan.core.permissions import requires
from fangfan.core.scoping import get_for_user_or_404
from fangfan.registry.models import Household

from . import decisions, notice, selectors, services
from .choices import SCHEMA_NOTICE, SCHEMA_VILLAGE_REPORT, CaseState, Kind
from .forms import ActForm, AttachForm, BatchForm, NoticeForm, StartForm, process_choices
from .models import CaseAttachment
from .rules import step_level_of_user
from .stepdata import schema_fields

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIELD_LABELS = {
    "visited_on": ("入户核查日期", "date"),
    "finding": ("核查情况", "text"),
    "meeting_on": ("评议日期", "date"),
    "attendees": ("参加人数", "number"),
    "agreed": ("评议结果", "agreed"),
    "notice_from": ("公示开始日期", "date"),
    "notice_to": ("公示结束日期", "date"),
    "objections": ("异议情况（无异议填“无”）", "text"),
}


def _shown(value) -> str:
    if value is True:
        return "同意"
    if value is False:
        return "不同意"
    return str(value)


def _case(request, pk: int):
    return get_for_user_or_404(selectors.cases_for_user(request.user), request.user, "case.view", pk=pk)


INBOX_PAGE_SIZES = (100, 500)  # 500: the largest batch, ticked at once


@requires("case.view")
@require_safe
def inbox(request):
    """我的待办 by 办结期限, a page of 100 (or 500 with ``?per=500``, for a whole batch) and a link to the next page
    (no total: the navigation's badge counts up to 99+)."""
    user = request.user
    asked = request.GET.get("per", "")
    per = int(asked) if asked in {str(n) for n in INBOX_PAGE_SIZES} else INBOX_PAGE_SIZES[0]
    raw = request.GET.get("page", "1")
    number = int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1
    rows = selectors.inbox_rows(user, limit=per + 1, offset=(number - 1) * per)
    has_next = len(rows) > per
    rows = rows[:per]
    level = step_level_of_user(user)
    today = timezone.localdate()
    return render(
        request,
        "workflows/inbox.html",
        {
            "rows": rows,
            "number": number,
            "per": per,
            "has_next": has_next,
            "today": today,
            "batch": user.can("case.act") and level in ("town", "county", "province"),
            "notice": user.role == "village_clerk",
            "at_notice": [
                c for c in rows if c.current_step.data_schema in (SCHEMA_NOTICE, SCHEMA_VILLAGE_REPORT)
            ],
        },
    )


@requires("case.view")
@require_safe
def case_list(request):
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    qs = selectors.case_list(
        request.user,
        state=state if state in CaseState.values else "",
        kind=kind if kind in Kind.values else "",
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "workflows/case_list.html",
        {
            "page": page,
            "state": state,
            "kind": kind,
            "states": CaseState.choices,
            "kinds": Kind.choices,
            "today": timezone.localdate(),
        },
    )


def _data_fields(schema: str, posted=None) -> list[dict]:
    fields = []
    for key in schema_fields(schema):
        label, kind = FIELD_LABELS[key]
        fields.append({"key": key, "label": label, "kind": kind, "value": (posted or {}).get(key, "")})
    return fields


@requires("case.view")
@require_safe
def case_detail(request, pk: int):
    case = _case(request, pk)
    return _detail(request, case)


def _detail(request, case, *, error: str = "", conditions_error: list | None = None, posted=None, status=200):
    user = request.user
    today = timezone.localdate()
    conditions = conditions_error or (services.case_conditions(case) if case.state == CaseState.OPEN else [])
    view = selectors.case_view(case, user, today=today, conditions=conditions)
    for a in view["history"]:
        a.data_rows = [(FIELD_LABELS.get(k, (k,))[0], _shown(v)) for k, v in (a.data or {}).items()]
    step = case.current_step
    show_records = view["acts"] and step is not None and step.name == "信息比对"
    return render(
        request,
        "workflows/case_detail.html",
        {
            "case": case,
            "household": case.household,
            "today": today,
            "error": error,
            "fields": _data_fields(step.data_schema, posted) if step and view["acts"] else [],
            "needs_consent": bool(step and view["acts"] and step.data_schema == "承诺授权"),
            "attachments": list(case.attachments.select_related("uploaded_by")),
            "attach_form": AttachForm() if view["acts"] else None,
            "can_withdraw": case.state == CaseState.OPEN and case.created_by_id == user.pk,
            "county": user.role == "county_review",
            "records": selectors.department_records(case.household, user) if show_records else [],
            "show_records": show_records,
            **view,
        },
        status=status,
    )


@requires("case.act")
@require_POST
def case_act(request, pk: int):
    case = _case(request, pk)
    form = ActForm(request.POST)
    if not form.is_valid():
        return _detail(request, case, error="请求不完整，请刷新页面后再办理", status=422)
    keys = schema_fields(case.current_step.data_schema) if case.current_step else []
    data = {k: request.POST.get(k, "") for k in keys}
    try:
        services.case_act(
            case=case,
            actor=request.user,
            action=form.cleaned_data["action"],
            comment=form.cleaned_data["comment"],
            data=data,
            override_reason=form.cleaned_data["override_reason"],
            expected_version=form.cleaned_data["version"],
        )
    except services.ConditionsFailed as exc:
        return _detail(
            request, case, error=exc.message, conditions_error=exc.conditions, posted=data, status=422
        )
    except DomainError as exc:
        status = 409 if exc.__class__.__name__ == "Conflict" else 422
        case.refresh_from_db()
        return _detail(request, case, error=exc.message, posted=data, status=status)
    messages.success(request, "已办理")
    return redirect("workflows:case_detail", pk=case.pk)


@requires("case.act")
@require_POST
def case_attach(request, pk: int):
    case = _case(request, pk)
    form = AttachForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, case, error="请选择材料类型和文件", status=422)
    try:
        services.case_attach(
            case=case, actor=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
        )
    except DomainError as exc:
        return _detail(request, case, error=exc.message, status=422)
    messages.success(request, "材料已上传")
    return redirect("workflows:case_detail", pk=case.pk)


@requires("case.view")
@require_safe
def attachment_file(request, pk: int):
    """One attachment, to those who may see its case; each download audited; never cached."""
    att = get_for_user_or_404(CaseAttachment.objects.all(), request.user, "case.view", pk=pk)
    path = services.attachment_path(att)
    if not path.is_file():
        raise Http404("文件已不存在")
    audit.record(
        request.user, "case.attachment_downloaded", att, after={"case": att.case_id, "kind": att.kind}
    )
    response = FileResponse(
        path.open("rb"),
        content_type=att.content_type,
        as_attachment=att.content_type == "application/pdf",
        filename=f"审批材料-{att.case_id}-{att.pk}{path.suffix}",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@requires("case.start")
@require_http_methods(["GET", "POST"])
def case_start(request, pk: int):
    household = get_for_user_or_404(
        Household.objects.select_related("region"), request.user, "household.view", pk=pk
    )
    if household.cancelled:
        raise Http404("该户已注销")
    choices = process_choices(household)
    form = StartForm(request.POST or None, processes=choices, initial={"process": request.GET.get("process")})
    error = ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            case = services.case_start(
                household=household,
                actor=request.user,
                process=d["process"],
                reason=d["reason"],
                source=d["source"],
                monitoring_type=d["monitoring_type"],
                risk_types=d["risk_types"],
                exited_class=d["exited_class"],
                elimination_way=d["elimination_way"],
            )
        except PermissionDenied as exc:
            error = str(exc)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "已发起，请继续办理第一个环节")
            return redirect("workflows:case_detail", pk=case.pk)
    return render(
        request,
        "workflows/start.html",
        {"household": household, "form": form, "error": error},
        status=422 if error or (request.method == "POST" and not form.is_valid()) else 200,
    )


@requires("case.act")
@require_POST
def batch(request):
    form = BatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请勾选要办理的事项并选择操作")
        return redirect("workflows:inbox")
    try:
        results = services.cases_batch(
            ids=form.cleaned_data["ids"],
            actor=request.user,
            action=form.cleaned_data["action"],
            comment=form.cleaned_data["comment"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("workflows:inbox")
    cases = {
        c.pk: c for c in selectors.cases_for_user(request.user).filter(pk__in=[r["id"] for r in results])
    }
    for r in results:
        r["case"] = cases.get(r["id"])
    return render(request, "workflows/batch_result.html", {"results": results})


@requires("case.act")
@require_POST
def notice_pdf(request):
    """The printable 村内公示 notice for ticked cases of one village (a PDF, never ID numbers, phones, bank
    accounts or health)."""
    form = NoticeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请勾选事项并填写公示起止日期")
        return redirect("workflows:inbox")
    ids = form.id_list()
    cases = list(selectors.waiting_for(request.user).filter(pk__in=ids).select_related("household__region"))
    start, end = form.cleaned_data["notice_from"], form.cleaned_data["notice_to"]
    try:
        if len(cases) != len(set(ids)):
            raise DomainError("有事项不在您的待办中")
        village = notice.notice_check(cases, start=start, end=end)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("workflows:inbox")
    pdf = notice.notice_pdf(village=village, rows=notice.notice_rows(cases), start=start, end=end)
    audit.record(
        request.user,
        "case.notice_printed",
        None,
        region_code=cases[0].region_code,
        after={"cases": [c.pk for c in cases], "from": start, "to": end},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="notice-{cases[0].region_code}-{start:%Y%m%d}.pdf"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


@requires("decision.export")
@require_safe
def decisions_export(request):
    """审批决定报送表: the period's decisions (cases ended 已办结) as the .xlsx a clerk uploads into the national
    system. The form first; ``download=1`` sends the file (whole ID numbers only to a user who may see them and
    asks: ``reveal=1``)."""
    user = request.user
    error = ""
    start, end = request.GET.get("from", ""), request.GET.get("to", "")
    if request.GET.get("download") == "1":
        reveal = request.GET.get("reveal") == "1"
        if reveal and not user.can("household.view_id"):
            raise PermissionDenied("household.view_id")
        try:
            period = decisions.period_parse(start, end)
        except DomainError as exc:
            error = exc.message
        else:
            buffer = io.BytesIO()
            decisions.decisions_export(actor=user, path=buffer, period=period, reveal_ids=reveal)
            name = f"审批决定报送表-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"
            response = HttpResponse(buffer.getvalue(), content_type=XLSX)
            response["Content-Disposition"] = (
                f"attachment; filename=\"decisions.xlsx\"; filename*=UTF-8''{quote(name)}"
            )
            response["Cache-Control"] = "private, no-store"
            return response
    today = timezone.localdate()
    return render(
        request,
        "workflows/decisions_export.html",
        {
            "error": error,
            "start": start or f"{today.replace(day=1):%Y-%m-%d}",
            "end": end or f"{today:%Y-%m-%d}",
            "may_reveal": user.can("household.view_id"),
        },
        status=400 if error else 200,
    )
