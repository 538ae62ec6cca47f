"""Early-warning pages: the warnings inbox per role, verification tasks and the visit form, overdue lists, risk
points, clues and the manual-channel form. Thin: parse input, call one service or selector, render.

Every object is fetched through the user's scope; one outside it answers 404.
"""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from fangfan.accounts.roles import Role
from fangfan.core.errors import DomainError
from fangfan.core.masking import mask_id, mask_phone
from fangfan.core.permissions import requires
from fangfan.registry.models import Household

from . import selectors, services
from .choices import Source
from .exporting import warnings_export
from .forms import (
    WARNING_DRAFT_KEY,
    ClueCloseForm,
    ClueLinkForm,
    RiskFilterForm,
    VerificationForm,
    WarningFilterForm,
    WarningReportForm,
)
from .models import VerificationTask

PAGE_SIZE = 50
INBOX_TASKS = 20


def _page(request, qs, size: int | None = None):
    page = Paginator(qs, size or PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _roles(request, tab: str) -> dict:
    user = request.user
    return {
        "tab": tab,
        "can_verify": user.can("warning.verify"),
        "can_review": user.can("warning.review"),
        "is_department": user.role == "department",
    }


def _with_village_names(rows, attr: str = "region_code"):
    names = selectors.village_names(getattr(r, attr) for r in rows)
    for row in rows:
        row.village_name = names.get(getattr(row, attr), "")
    return rows


def _with_rule_names(rows):
    """Each warning's rule by its Chinese name (the code stays in the cell's title): the rules are a few dozen,
    read once rather than joined to every row."""
    names = selectors.rule_names()
    for row in rows:
        row.rule_name = names.get(row.rule_code, "")
    return rows


# --- the warnings inbox -------------------------------------------------------------------------------------------


def _filters(request) -> WarningFilterForm:
    return WarningFilterForm(
        request.GET or None,
        villages=selectors.village_choices(request.user),
        rules=selectors.rule_choices(),
    )


@requires("warning.view")
@require_safe
def warning_list(request):
    """The inbox: a village's open tasks to verify; the town's figures (to review, overdue, clues); then the
    filtered warnings list (a department sees only hits from its own data, read-only)."""
    user = request.user
    filters = _filters(request)
    values = filters.values()
    page, query = _page(request, selectors.warning_search(user, **values))
    _with_village_names(page.object_list)
    _with_rule_names(page.object_list)
    context = _roles(request, "warnings")
    tasks = []
    if context["can_verify"]:
        tasks = list(selectors.tasks_open(user)[:INBOX_TASKS])
        _with_village_names(tasks)
    counts = None if context["is_department"] else selectors.inbox_counts(user)
    context.update(
        {
            "filters": filters,
            "page": page,
            "query": query,
            "tasks": tasks,
            "counts": counts,
            "today": timezone.localdate(),
            "filtered": bool(values),
        }
    )
    return render(request, "monitoring/warning_list.html", context)


@requires("warning.view")
@require_safe
def warning_export(request):
    """The filtered list as 预警清单.xlsx (DATA-FORMATS §4)."""
    filters = _filters(request)
    values = filters.values()
    qs = selectors.warning_search(request.user, **values)
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes (and so deletes) it
    warnings_export(
        actor=request.user,
        queryset=qs,
        path=target,
        filters={k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()},
    )
    target.seek(0)
    return FileResponse(
        target,
        as_attachment=True,
        filename=f"预警清单-{timezone.localdate():%Y%m%d}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@requires("warning.view")
@require_safe
def warning_detail(request, pk: int):
    warning = (
        selectors.warnings_for_user(request.user)
        .select_related("household", "rule", "task", "decided_by", "created_by")
        .filter(pk=pk)
        .first()
    )
    if warning is None:
        raise Http404
    risk = getattr(warning, "risk_point", None) if warning.state == warning.State.CONFIRMED else None
    context = _roles(request, "warnings")
    context.update(
        {
            "warning": warning,
            "risk": risk,
            "village_name": selectors.village_names([warning.region_code]).get(warning.region_code, ""),
            "evidence": sorted((warning.evidence or {}).items()),
            "source_label": dict(Source.choices).get(warning.source, warning.source),
            "can_open_household": request.user.can("household.view"),
        }
    )
    return render(request, "monitoring/warning_detail.html", context)


# --- verification tasks -------------------------------------------------------------------------------------------


@requires("warning.view")
@require_safe
def task_list(request):
    user = request.user
    show = request.GET.get("show", "")
    village = request.GET.get("village", "")
    if show == "done":
        qs = selectors.tasks_done(user).order_by("-done_at", "-id")
        if village:
            qs = qs.filter(region_code=village)
    elif show == "overdue":
        qs = selectors.tasks_overdue(user)
        if village:
            qs = qs.filter(region_code=village)
    else:
        qs = selectors.tasks_open(user, village=village)
    # A 帮扶责任人/联系人 may keep to the households they look after (plan 四(二)2: their monthly contacts).
    can_mine = user.role == Role.HELPER
    mine = can_mine and request.GET.get("mine") == "1"
    if mine:
        qs = selectors.helped_by(qs, user)
    page, query = _page(request, qs, 30)
    _with_village_names(page.object_list)
    context = _roles(request, "tasks")
    context.update(
        {
            "page": page,
            "query": query,
            "show": show,
            "can_mine": can_mine,
            "mine": mine,
            "village": village,
            "villages": selectors.village_choices(user),
            "today": timezone.localdate(),
        }
    )
    return render(request, "monitoring/task_list.html", context)


@requires("warning.view")
@require_http_methods(["GET", "HEAD", "POST"])
def task_detail(request, pk: int):
    """A task's household and warnings; while it is open, the visit form (works on a phone) for those who
    complete visits (``warning.visit``: the village, the town station); a reviewing role only reads it."""
    user = request.user
    task = selectors.tasks_for_user(user).select_related("household", "done_by").filter(pk=pk).first()
    if task is None:
        raise Http404
    household = task.household
    warnings = list(selectors.task_warnings(user, task).select_related("rule"))
    open_warnings = [w for w in warnings if w.state in w.OPEN_STATES]
    can_complete = task.state == VerificationTask.State.OPEN and user.can(services.VISIT)
    form = None
    if can_complete:
        form = VerificationForm(request.POST if request.method == "POST" else None, warnings=open_warnings)
        if request.method == "POST" and form.is_valid():
            try:
                services.task_complete(
                    task=task,
                    actor=user,
                    visited_on=form.cleaned_data["visited_on"],
                    visit_way=form.cleaned_data["visit_way"],
                    finding=form.cleaned_data["finding"],
                    decisions=form.decisions(),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                confirmed = sum(
                    1 for _w, (verdict, _r) in form.decisions().items() if verdict == services.CONFIRM
                )
                messages.success(
                    request,
                    f"核查已完成：确认 {confirmed} 条，排除 {len(open_warnings) - confirmed} 条。"
                    + ("已确认的风险已登记为风险点。" if confirmed else ""),
                )
                return redirect("monitoring:task_detail", pk=task.pk)
    elif request.method == "POST":
        if not user.can(services.VISIT):
            raise PermissionDenied(services.VISIT)  # a reading role: refused like every other act (403)
        messages.error(request, "该任务已完成核查。")
        return redirect("monitoring:task_detail", pk=task.pk)
    context = _roles(request, "tasks")
    context.update(
        {
            "task": task,
            "household": household,
            "warnings": warnings,
            "form": form,
            "rows": form.rows() if form else [],
            "village_name": selectors.village_names([task.region_code]).get(task.region_code, ""),
            "phone_masked": mask_phone(household.phone),
            "can_view_phone": user.can("household.view_phone"),
            "show_household": user.can("household.view"),
            "overdue": task.state == VerificationTask.State.OPEN and task.due_date < timezone.localdate(),
            "risks": list(selectors.risks_for_user(user).filter(warning__task=task).order_by("id")),
        }
    )
    return render(request, "monitoring/task_detail.html", context)


# --- overdue, risk points ---------------------------------------------------------------------------------------


@requires("warning.review")
@require_safe
def overdue(request):
    """What is late: tasks past the 入户核查 deadline, warnings not decided in time, risk points past 限期消除."""
    user = request.user
    tasks = _with_village_names(list(selectors.tasks_overdue(user)[:200]))
    warnings = _with_village_names(list(selectors.warnings_overdue(user)[:200]))
    risks = _with_village_names(list(selectors.risks_overdue(user)[:200]))
    context = _roles(request, "overdue")
    context.update({"tasks": tasks, "warnings": warnings, "risks": risks, "today": timezone.localdate()})
    return render(request, "monitoring/overdue.html", context)


@requires("warning.view")
@require_safe
def risk_list(request):
    """Open risk points, the nearest deadline first; those past their deadline stand out."""
    user = request.user
    filters = RiskFilterForm(request.GET or None, villages=selectors.village_choices(user))
    qs = selectors.risks_open(user, **filters.values())
    # A 帮扶责任人/联系人 may keep to the households they look after (their start page's card opens this).
    mine = user.role == Role.HELPER and request.GET.get("mine") == "1"
    if mine:
        qs = selectors.helped_by(qs, user)
    page, query = _page(request, qs)
    _with_village_names(page.object_list)
    context = _roles(request, "risks")
    context.update(
        {"filters": filters, "page": page, "query": query, "today": timezone.localdate(), "mine": mine}
    )
    return render(request, "monitoring/risk_list.html", context)


# --- clues (town station) --------------------------------------------------------------------------------------


@requires("warning.review")
@require_safe
def clue_list(request):
    user = request.user
    show = request.GET.get("show", "")
    qs = selectors.clues_for_user(user).order_by("-id")
    qs = qs if show == "all" else qs.filter(state="new")
    page, query = _page(request, qs)
    _with_village_names(page.object_list)
    context = _roles(request, "clues")
    context.update({"page": page, "query": query, "show": show})
    return render(request, "monitoring/clue_list.html", context)


@requires("warning.review")
@require_http_methods(["GET", "HEAD", "POST"])
def clue_detail(request, pk: int):
    """A clue: who reported what (ID masked); the town station links it to a household (a warning follows) or
    closes it; the town leader and the county read it."""
    user = request.user
    can_handle = user.can(services.CLUE_HANDLE)
    if request.method == "POST" and not can_handle:
        raise PermissionDenied(services.CLUE_HANDLE)
    clue = selectors.clues_for_user(user).select_related("household", "warning").filter(pk=pk).first()
    if clue is None:
        raise Http404
    link_form = ClueLinkForm(request.POST if request.POST.get("form") == "link" else None)
    close_form = ClueCloseForm(request.POST if request.POST.get("form") == "close" else None)
    if request.method == "POST":
        try:
            if request.POST.get("form") == "link" and link_form.is_valid():
                household = (
                    Household.objects.for_user(user, "household.view")
                    .filter(number=link_form.cleaned_data["household_number"].strip())
                    .first()
                )
                if household is None:
                    link_form.add_error("household_number", "本辖区没有这个户编号")
                else:
                    services.clue_link(
                        clue=clue,
                        household=household,
                        actor=user,
                        risk_type=link_form.cleaned_data["risk_type"],
                    )
                    messages.success(request, f"线索已关联到户 {household.number}，并生成预警进入核查。")
                    return redirect("monitoring:clue_detail", pk=clue.pk)
            elif request.POST.get("form") == "close" and close_form.is_valid():
                services.clue_close(clue=clue, actor=user, reason=close_form.cleaned_data["reason"])
                messages.success(request, "线索已办结。")
                return redirect("monitoring:clue_detail", pk=clue.pk)
        except DomainError as exc:
            (link_form if request.POST.get("form") == "link" else close_form).add_error(None, exc.message)
    candidates = []
    if clue.id_index and clue.state == clue.State.NEW:
        candidates = list(
            Household.objects.for_user(user, "household.view")
            .filter(members__id_index=clue.id_index)
            .distinct()
        )
    context = _roles(request, "clues")
    context.update(
        {
            "clue": clue,
            "village_name": selectors.village_names([clue.region_code]).get(clue.region_code, ""),
            "id_masked": _mask_id(clue.id_number),
            "link_form": link_form,
            "close_form": close_form,
            "candidates": candidates,
            "can_handle": can_handle,
        }
    )
    return render(request, "monitoring/clue_detail.html", context)


def _mask_id(raw: str) -> str:
    return mask_id(raw) if raw and len(raw) == 18 else ("已填写" if raw else "")


# --- warnings people raise (manual channels) --------------------------------------------------------------------


def _report(request, pk: int):
    user = request.user
    household = selectors.household_for_user(user, pk)
    if household is None:
        raise Http404
    # A contact that found a risk left what was typed (assistance's contact view): the form starts from it.
    draft = request.session.get(WARNING_DRAFT_KEY)
    draft = draft if isinstance(draft, dict) and draft.get("household") == household.pk else None
    initial = (
        {"description": draft.get("description", ""), "channel": draft.get("channel", "")} if draft else {}
    )
    form = WarningReportForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            warning = services.warning_report(
                household=household,
                actor=user,
                channel=form.cleaned_data["channel"],
                risk_type=form.cleaned_data["risk_type"],
                description=form.cleaned_data["description"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            request.session.pop(WARNING_DRAFT_KEY, None)
            messages.success(request, "预警已登记，并归入该户的入户核查任务。")
            if warning.task_id:
                return redirect("monitoring:task_detail", pk=warning.task_id)
            return redirect("monitoring:warning_detail", pk=warning.pk)
    context = _roles(request, "warnings")
    context.update(
        {
            "household": household,
            "form": form,
            "open_task": household.verification_tasks.filter(state="open").first(),
        }
    )
    return render(request, "monitoring/warning_report.html", context)


@requires("warning.verify")
@require_http_methods(["GET", "HEAD", "POST"])
def warning_report(request, pk: int):
    """A village clerk or helper records a warning for a household: 农户自主申报 filled in for the farmer,
    基层干部排查, 督查暗访反馈 or 市级反馈预警."""
    return _report(request, pk)


@requires(services.FEEDBACK)
@require_http_methods(["GET", "HEAD", "POST"])
def warning_feedback(request, pk: int):
    """The same form for the town station: 督查暗访反馈 and 市级反馈预警 come to the town, which records and verifies
    them (plan 二(三)); the town leader and the county read, they record no warning."""
    return _report(request, pk)
