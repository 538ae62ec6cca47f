"""帮扶措施 pages: the 措施落实 list and its ledger, a department's 待落实措施, a measure (progress, evidence), the forms
reached from the household page (add a measure, register or close a risk point, ask for an M8 exception) and the
catalogue. Thin: parse input, call one service or selector, render. Objects outside the jurisdiction answer 404."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from fangfan.core.errors import DomainError
from fangfan.core.permissions import requires
from fangfan.core.scoping import get_for_user_or_404
from fangfan.monitoring.models import RiskPoint
from fangfan.monitoring.selectors import village_choices, village_names
from fangfan.regions.models import Region
from fangfan.registry.models import Household

from . import selectors, services
from .choices import ExceptionState, MeasureState
from .exporting import measures_ledger_export
from .forms import (
    CatalogueForm,
    DecisionForm,
    EvidenceForm,
    ExceptionForm,
    MeasureFilterForm,
    MeasureForm,
    ProgressForm,
    RiskCloseForm,
    RiskRegisterForm,
)
from .models import Measure, MeasureEvidence, MeasureType, PolicyException

PAGE_SIZE = 50


def _household(request, pk: int, action: str) -> Household:
    household = get_for_user_or_404(Household.objects.select_related("region"), request.user, action, pk=pk)
    if household.cancelled:
        raise Http404("该户已注销")
    return household


def _back(household_pk: int):
    return redirect("registry:household_detail", pk=household_pk)


# --- the 措施落实 list ---------------------------------------------------------------------------------------------


def _filters(request, *, todo: bool):
    user = request.user
    villages = village_choices(user)
    form = MeasureFilterForm(
        request.GET or None, villages=villages, department_user=user.role == "department"
    )
    values = form.values()
    state = values.get("state", "")
    filters = selectors.MeasureFilters(
        state="" if state == "pending" else state,
        pending=state == "pending" or (todo and not state),
        category=values.get("category", ""),
        department=values.get("department", ""),
        village=values.get("village", ""),
        overdue=bool(values.get("overdue")),
        doubt=values.get("doubt", ""),
    )
    return form, filters, dict(villages)


def _list(request, *, todo: bool):
    user = request.user
    form, filters, villages = _filters(request, todo=todo)
    today = timezone.localdate()
    context = {
        "filters": form,
        "todo": todo,
        "today": today,
        "doubt": filters.doubt,
        "doubt_label": selectors.DOUBTS.get(filters.doubt, ""),
        # the doubts' counts come in a request of their own once the list is shown (measure_doubts)
        "doubts": [(key, selectors.DOUBTS[key], None) for key in _doubt_keys(user)],
        "is_department": user.role == "department",
    }
    query = request.GET.copy()
    query.pop("page", None)
    context["query"] = query.urlencode()
    if filters.doubt == "risk_without_measure":
        qs = selectors.risks_without_measure(user, today).select_related("household")
        qs = qs.order_by(selectors.priority_order(), "found_on", "id")
        if filters.village:
            qs = qs.filter(region_code=filters.village)
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        context.update({"risk_page": page, "page": page})
    else:
        paged = selectors.PagedByIds(selectors.measure_list(user, filters, today), only=selectors.LIST_ONLY)
        page = paged.page(request.GET.get("page"), PAGE_SIZE)
        context["page"] = page
    for row in page.object_list:
        row.village_name = villages.get(row.region_code, "")
    return render(request, "assistance/measure_list.html", context)


def _doubt_keys(user) -> list[str]:
    if not user.can("measure.view"):
        return []
    if user.role == "department":  # its measures only: risk points are not assigned to it
        return ["done_without_evidence"]
    return list(selectors.DOUBTS)


@requires("measure.view")
@require_safe
def measure_doubts(request):
    """The 疑点 cards of the 措施落实 list with their counts, loaded by the list once it is shown (htmx): the three
    counts run over the whole jurisdiction, the list's page over 50 rows — each request stays quick."""
    user = request.user
    counts = selectors.doubt_counts(user, timezone.localdate())
    chosen = request.GET.get("doubt", "")
    return render(
        request,
        "assistance/_doubts.html",
        {
            "doubts": [(key, selectors.DOUBTS[key], counts.get(key)) for key in _doubt_keys(user)],
            "doubt": chosen if chosen in selectors.DOUBTS else "",
            "loaded": True,
        },
    )


@requires("measure.view")
@require_safe
def measure_list(request):
    """措施落实: the measures of the user's jurisdiction, monitored households first, with the doubts' counts."""
    return _list(request, todo=False)


@requires("measure.progress")
@require_safe
def measure_todo(request):
    """待落实措施: the measures still to carry out (计划, 落实中); a department sees only its own."""
    return _list(request, todo=True)


@requires("measure.view")
@require_safe
def measure_export(request):
    """帮扶措施落实台账 as .xlsx, filtered as the list is."""
    user = request.user
    _form, filters, villages = _filters(request, todo=False)
    if filters.doubt == "risk_without_measure":
        filters.doubt = ""
    qs = selectors.measure_list(user, filters)
    region = Region.objects.filter(pk=user.region_id).values_list("name", flat=True).first() or ""
    place = villages.get(filters.village, "") or region
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes (and so deletes) it
    today = timezone.localdate()
    measures_ledger_export(
        actor=user,
        queryset=qs,
        villages=villages,
        place=place,
        date_text=f"{today:%Y年%m月%d日}",
        path=target,
        filters={k: v for k, v in vars(filters).items() if v and k != "applied"},
    )
    target.seek(0)
    return FileResponse(
        target,
        as_attachment=True,
        filename=f"帮扶措施落实台账-{today:%Y%m%d}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# --- one measure -----------------------------------------------------------------------------------------------


def _measure(request, pk: int, action: str) -> Measure:
    return get_for_user_or_404(
        Measure.objects.select_related("household", "measure_type", "risk", "exception"),
        request.user,
        action,
        pk=pk,
    )


def _render_measure(request, measure: Measure, *, progress=None, evidence=None, status: int = 200):
    user = request.user
    can_progress = user.can("measure.progress") and measure.state != MeasureState.DONE
    context = {
        "measure": measure,
        "today": timezone.localdate(),
        "village_name": village_names([measure.region_code]).get(measure.region_code, ""),
        "evidence": list(measure.evidence.order_by("id")),
        "can_progress": can_progress,
        "can_upload": user.can("measure.progress"),
        "can_view_household": user.can("household.view"),
        "progress_form": progress or ProgressForm(initial={"done_on": timezone.localdate()}),
        "evidence_form": evidence or EvidenceForm(),
    }
    return render(request, "assistance/measure_detail.html", context, status=status)


@requires("measure.view")
@require_safe
def measure_detail(request, pk: int):
    """A measure: what, for which risk, who carries it out, its progress and evidence. A department user sees the
    household's number, village and head's name only — what it needs to act."""
    return _render_measure(request, _measure(request, pk, "measure.view"))


@requires("measure.progress")
@require_POST
def measure_progress(request, pk: int):
    measure = _measure(request, pk, "measure.progress")
    form = ProgressForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.measure_progress(
                measure=measure,
                actor=request.user,
                state=data["state"],
                done_on=data["done_on"],
                note=data["note"],
            )
        except (DomainError, PermissionDenied) as exc:
            form.add_error(None, getattr(exc, "message", None) or str(exc))
        else:
            messages.success(request, f"已更新为“{measure.get_state_display()}”。")
            return redirect("assistance:measure_detail", pk=measure.pk)
    return _render_measure(request, measure, progress=form, status=422)


@requires("measure.progress")
@require_POST
def measure_evidence(request, pk: int):
    measure = _measure(request, pk, "measure.progress")
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.measure_evidence_add(
                measure=measure, actor=request.user, upload=form.cleaned_data["file"]
            )
        except (DomainError, PermissionDenied) as exc:
            form.add_error("file", getattr(exc, "message", None) or str(exc))
        else:
            messages.success(request, "佐证材料已上传。")
            return redirect("assistance:measure_detail", pk=measure.pk)
    return _render_measure(request, measure, evidence=form, status=422)


@requires("measure.view")
@require_safe
def evidence_file(request, pk: int):
    """One evidence file, to those who may see its measure; never cached."""
    evidence = get_for_user_or_404(MeasureEvidence.objects.all(), request.user, "measure.view", pk=pk)
    path = services.evidence_path(evidence)
    if not path.is_file():
        raise Http404("文件已不存在")
    suffix = path.suffix
    response = FileResponse(
        path.open("rb"),
        content_type=evidence.content_type,
        as_attachment=evidence.content_type == "application/pdf",
        filename=f"佐证材料-{evidence.measure_id}-{evidence.pk}{suffix}",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- forms from the household page -------------------------------------------------------------------------------


def _form_page(request, household, form, *, title: str, submit: str, notice: str = "", status: int = 200):
    return render(
        request,
        "assistance/form.html",
        {"household": household, "form": form, "title": title, "submit_label": submit, "notice": notice},
        status=status,
    )


@requires("measure.edit")
@require_http_methods(["GET", "HEAD", "POST"])
def measure_add(request, pk: int):
    """登记帮扶措施 for the household, for one of its open risk points (``?risk=``) or for the household as a whole."""
    household = _household(request, pk, "measure.edit")
    risks = list(
        RiskPoint.objects.for_user(request.user, "measure.edit")
        .filter(household=household, state__in=RiskPoint.UNRESOLVED)
        .order_by("found_on", "id")
    )
    catalogue = MeasureType.objects.filter(active=True).order_by("sort", "id")
    initial = {"risk": request.GET.get("risk", "")}
    form = MeasureForm(request.POST or None, risks=risks, catalogue=catalogue, initial=initial)
    notice = services.M8_RULE if services.is_not_enjoying(household) else ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        risk = next((r for r in risks if r.pk == data["risk"]), None)
        department = {"": None, "none": ""}.get(data["department"], data["department"])
        try:
            services.measure_create(
                household=household,
                actor=request.user,
                measure=data["measure"],
                risk=risk,
                department=department,
                planned_on=data["planned_on"],
                amount=data["amount"],
                responsible=data["responsible"],
            )
        except (DomainError, PermissionDenied) as exc:
            form.add_error(None, getattr(exc, "message", None) or str(exc))
        else:
            messages.success(request, "帮扶措施已登记。")
            return _back(household.pk)
    status = 422 if request.method == "POST" else 200
    return _form_page(
        request, household, form, title="登记帮扶措施", submit="登记", notice=notice, status=status
    )


@requires("risk.register")
@require_http_methods(["GET", "HEAD", "POST"])
def risk_add(request, pk: int):
    """登记风险点 found by an inspection, the city, a cadre or the household itself."""
    household = _household(request, pk, "risk.register")
    form = RiskRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.risk_register(household=household, actor=request.user, **form.cleaned_data)
        except (DomainError, PermissionDenied) as exc:
            form.add_error(None, getattr(exc, "message", None) or str(exc))
        else:
            messages.success(request, "风险点已登记，请制定帮扶措施。")
            return _back(household.pk)
    status = 422 if request.method == "POST" else 200
    return _form_page(request, household, form, title="登记风险点", submit="登记", status=status)


@requires("risk.close")
@require_http_methods(["GET", "HEAD", "POST"])
def risk_close(request, pk: int):
    """消除风险点: the town station closes it; a village clerk's close waits for the town's confirmation."""
    risk = get_for_user_or_404(
        RiskPoint.objects.select_related("household__region"), request.user, "risk.close", pk=pk
    )
    form = RiskCloseForm(request.POST or None)
    town = request.user.can("risk.confirm_close")
    if request.method == "POST" and form.is_valid():
        try:
            services.risk_close(risk=risk, actor=request.user, **form.cleaned_data)
        except (DomainError, PermissionDenied) as exc:
            form.add_error(None, getattr(exc, "message", None) or str(exc))
        else:
            messages.success(request, "风险点已消除。" if town else "已申请消除，等待镇扶贫工作站确认。")
            return _back(risk.household_id)
    notice = f"风险点：{risk.get_risk_type_display()}（发现 {risk.found_on:%Y-%m-%d}）。至少有一项帮扶措施“已落实”后方可消除。"
    if not town:
        notice += "村级申请消除后，由镇扶贫工作站确认。"
    status = 422 if request.method == "POST" else 200
    title = "消除风险点" if town else "申请消除风险点"
    return _form_page(request, risk.household, form, title=title, submit=title, notice=notice, status=status)


@requires("risk.confirm_close")
@require_POST
def risk_decide(request, pk: int):
    """The town station confirms or returns a village's request to close a risk point."""
    risk = get_for_user_or_404(RiskPoint.objects.all(), request.user, "risk.confirm_close", pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择同意或退回")
        return _back(risk.household_id)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.risk_close_confirm(
            risk=risk, actor=request.user, approve=approve, note=form.cleaned_data["note"]
        )
    except (DomainError, PermissionDenied) as exc:
        messages.error(request, getattr(exc, "message", None) or str(exc))
    else:
        messages.success(request, "已确认消除该风险点。" if approve else "已退回消除申请。")
    return _back(risk.household_id)


@requires("measure.exception_request")
@require_http_methods(["GET", "HEAD", "POST"])
def exception_add(request, pk: int):
    """申请政策例外 (M8) for a 不享受政策 household hit by a disaster or a family change."""
    household = _household(request, pk, "measure.exception_request")
    form = ExceptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.exception_request(household=household, actor=request.user, **form.cleaned_data)
        except (DomainError, PermissionDenied) as exc:
            form.add_error(None, getattr(exc, "message", None) or str(exc))
        else:
            messages.success(request, "政策例外已申请，等待镇扶贫工作站审批。")
            return _back(household.pk)
    status = 422 if request.method == "POST" else 200
    return _form_page(
        request,
        household,
        form,
        title="申请政策例外",
        submit="提交申请",
        notice=services.M8_RULE,
        status=status,
    )


@requires("measure.exception_approve")
@require_POST
def exception_decide(request, pk: int):
    exception = get_for_user_or_404(
        PolicyException.objects.filter(state=ExceptionState.REQUESTED),
        request.user,
        "measure.exception_approve",
        pk=pk,
    )
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择同意或退回")
        return _back(exception.household_id)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.exception_decide(
            exception=exception, actor=request.user, approve=approve, note=form.cleaned_data["note"]
        )
    except (DomainError, PermissionDenied) as exc:
        messages.error(request, getattr(exc, "message", None) or str(exc))
    else:
        messages.success(request, "已批准政策例外。" if approve else "已不予批准。")
    return _back(exception.household_id)


# --- the catalogue ---------------------------------------------------------------------------------------------


@requires("measure.view")
@require_safe
def catalogue(request):
    """帮扶措施目录: every measure, its category and kind; the county adds and retires measures here."""
    return _catalogue_page(request, CatalogueForm())


def _catalogue_page(request, form, status: int = 200):
    rows = list(MeasureType.objects.order_by("-active", "sort", "id"))
    return render(
        request,
        "assistance/catalogue.html",
        {"rows": rows, "form": form, "can_manage": request.user.can("catalogue.manage")},
        status=status,
    )


@requires("catalogue.manage")
@require_POST
def catalogue_add(request):
    form = CatalogueForm(request.POST)
    if form.is_valid():
        try:
            services.catalogue_add(actor=request.user, **form.cleaned_data)
        except (DomainError, PermissionDenied) as exc:
            form.add_error(None, getattr(exc, "message", None) or str(exc))
        else:
            messages.success(request, f"已增加措施“{form.cleaned_data['name']}”。")
            return redirect("assistance:catalogue")
    return _catalogue_page(request, form, status=422)


@requires("catalogue.manage")
@require_POST
def catalogue_toggle(request, pk: int):
    """Retire a measure (hidden from new measures, kept on old ones) or bring it back; nothing is deleted."""
    mt = MeasureType.objects.filter(pk=pk).first()
    if mt is None:
        raise Http404
    services.catalogue_set_active(actor=request.user, measure_type=mt, active=not mt.active)
    messages.success(request, f"已{'恢复' if not mt.active else '停用'}“{mt.name}”。")
    return redirect("assistance:catalogue")
