"""资金 pages: the funds and their balances, a fund's ledger (running balance, filters, .xlsx), receipts, requests
(from a household or one of its measures), the 镇领导小组's approvals, payments and reversals. Thin: parse input,
call one service or selector, render. An object outside the user's jurisdiction answers 404."""

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
from fangfan.monitoring.selectors import village_names
from fangfan.regions.codes import Level
from fangfan.regions.models import Region

from . import fund_selectors as selectors
from . import funds as services
from .choices import MeasureState, RequestState
from .forms import DecisionForm
from .fund_forms import (
    FundForm,
    LedgerFilterForm,
    PayForm,
    ReceiptForm,
    RequestFilterForm,
    RequestForm,
    ReverseForm,
)
from .ledger_exports import fund_ledger_export
from .models import FundEntry, FundRequest, Measure
from .services import M8_RULE, is_not_enjoying
from .views import _household

PAGE_SIZE = 50


def _error(exc) -> str:
    return getattr(exc, "message", None) or str(exc)


def _places(user) -> list[tuple[str, str]]:
    """The town and its villages, for a new fund."""
    span = user.jurisdiction_range()
    if span is None:
        return []
    return list(
        Region.objects.filter(level__in=(Level.TOWN, Level.VILLAGE), code__gte=span[0], code__lt=span[1])
        .order_by("code")
        .values_list("code", "name")
    )


# --- funds -----------------------------------------------------------------------------------------------------


def _fund_list(request, form=None, status: int = 200):
    user = request.user
    funds = list(selectors.funds_for_user(user).select_related("region").order_by("region_id", "kind", "id"))
    readable = set(selectors.ledger_funds(user).values_list("pk", flat=True))
    for f in funds:
        f.readable = f.pk in readable
    pending = selectors.requests_for_user(user, state="open")
    context = {
        "funds": funds,
        "total": sum((f.balance for f in funds), 0),
        "to_approve": pending.filter(state=RequestState.REQUESTED).count(),
        "to_pay": pending.filter(state=RequestState.APPROVED).count(),
        "can_create": user.can("fund.receive"),
        "form": form or (FundForm(places=_places(user)) if user.can("fund.receive") else None),
    }
    return render(request, "assistance/funds/fund_list.html", context, status=status)


@requires("fund.view")
@require_safe
def fund_list(request):
    """资金: the funds of the user's town or village and their balances, and what waits for approval or payment."""
    return _fund_list(request)


@requires("fund.receive")
@require_POST
def fund_add(request):
    form = FundForm(request.POST, places=_places(request.user))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.fund_create(
                actor=request.user,
                name=data["name"],
                kind=data["kind"],
                region_code=data["region"],
                note=data["note"],
            )
        except (DomainError, PermissionDenied) as exc:
            form.add_error(None, _error(exc))
        else:
            messages.success(request, f"已设立“{data['name']}”。")
            return redirect("assistance:fund_list")
    return _fund_list(request, form, status=422)


def _fund(request, pk: int, action: str = "fund.view"):
    return get_for_user_or_404(
        selectors.ledger_funds(request.user).select_related("region"), request.user, action, pk=pk
    )


@requires("fund.view")
@require_safe
def fund_ledger(request, pk: int):
    """A fund's ledger: every entry in the order written, with the balance after it; filters by date and type."""
    fund = _fund(request, pk)
    form = LedgerFilterForm(request.GET or None)
    values = form.values()
    filters = selectors.LedgerFilters(values.get("date_from"), values.get("date_to"), values.get("kind", ""))
    entries = selectors.ledger_entries([fund.pk], filters)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    reversed_ids = set(
        FundEntry.objects.unscoped()  # reversals of the entries on this page, read in scope
        .filter(reverses__in=[e.pk for e in page.object_list])
        .values_list("reverses_id", flat=True)
    )
    for e in page.object_list:
        e.is_reversed = e.pk in reversed_ids
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "fund": fund,
        "place": village_names([fund.region_id]).get(fund.region_id, ""),
        "filters": form,
        "page": page,
        "query": query.urlencode(),
        "can_receive": request.user.can("fund.receive") and fund.active,
        "can_reverse": request.user.can("fund.pay"),
        "requests": list(selectors.requests_for_user(request.user, state="open", fund=fund)[:20]),
        "can_pay": request.user.can("fund.pay"),
        "can_approve": request.user.can("fund.approve"),
    }
    return render(request, "assistance/funds/fund_ledger.html", context)


@requires("fund.view")
@require_safe
def fund_export(request, pk: int):
    """资金台账 (.xlsx) of the fund, for the dates filtered on the ledger page."""
    fund = _fund(request, pk)
    values = LedgerFilterForm(request.GET or None).values()
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes (and so deletes) it
    fund_ledger_export(
        actor=request.user,
        path=target,
        fund=fund,
        date_from=values.get("date_from"),
        date_to=values.get("date_to"),
    )
    target.seek(0)
    return FileResponse(
        target,
        as_attachment=True,
        filename=f"资金台账-{timezone.localdate():%Y%m%d}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, f"assistance/funds/{template}", context, status=status)


@requires("fund.receive")
@require_http_methods(["GET", "HEAD", "POST"])
def fund_receive(request, pk: int):
    """登记收入: a donation or an allocation, with its voucher number."""
    fund = _fund(request, pk, "fund.receive")
    form = ReceiptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.fund_receive(actor=request.user, fund=fund, **form.cleaned_data)
        except (DomainError, PermissionDenied) as exc:
            form.add_error(None, _error(exc))
        else:
            messages.success(request, "收入已登记。")
            return redirect("assistance:fund_ledger", pk=fund.pk)
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "title": "登记收入", "fund": fund, "submit": "登记", "back": fund}
    return _page(request, "form.html", context, status)


# --- requests --------------------------------------------------------------------------------------------------


@requires("fund.view")
@require_safe
def fund_requests(request):
    """资金申请: the requests of the user's jurisdiction; for the 镇领导小组 those waiting for its approval first."""
    user = request.user
    default = "requested" if user.can("fund.approve") else ("approved" if user.can("fund.pay") else "")
    form = RequestFilterForm(request.GET or {"state": default})
    state = form.cleaned_data.get("state", "") if form.is_valid() else ""
    qs = selectors.requests_for_user(user, state=state).order_by("-requested_at", "-id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    names = village_names({r.region_code for r in page.object_list})
    for r in page.object_list:
        r.village_name = names.get(r.region_code, "")
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": form,
        "page": page,
        "query": query.urlencode(),
        "can_approve": user.can("fund.approve"),
        "can_pay": user.can("fund.pay"),
    }
    return render(request, "assistance/funds/request_list.html", context)


@requires("fund.request")
@require_http_methods(["GET", "HEAD", "POST"])
def fund_request_add(request, pk: int):
    """申请基金支出 for a household (``?measure=`` preselects one of its measures)."""
    household = _household(request, pk, "fund.request")
    funds = selectors.funds_for_household(request.user, household)
    measures = list(
        Measure.objects.for_user(request.user, "measure.view")
        .filter(household=household)
        .exclude(state=MeasureState.FAILED)
        .select_related("measure_type")
        .order_by("-planned_on", "-id")
    )
    initial = {"measure": request.GET.get("measure", "")}
    preferred = next((m for m in measures if str(m.pk) == initial["measure"]), None)
    if preferred is not None and preferred.measure_type.category in ("charity", "emergency"):
        match = next((f for f in funds if f.kind == preferred.measure_type.category), None)
        if match is not None:
            initial["fund"] = match.pk
        if preferred.amount:
            initial["amount"] = preferred.amount
    form = RequestForm(request.POST or None, funds=funds, measures=measures, initial=initial)
    notice = ""
    if is_not_enjoying(household):
        notice = M8_RULE
    elif not services.is_identified(household):
        notice = (
            "该户尚未认定为脱贫户或监测对象：只有救急难基金可以先行救助，且每案不超过政策参数规定的限额。"
        )
    if not funds:
        notice = (notice + " " if notice else "") + "本村和本镇还没有可用的基金，请镇扶贫工作站先设立基金。"
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fund = next((f for f in funds if f.pk == data["fund"]), None)
        measure = next((m for m in measures if m.pk == data["measure"]), None)
        try:
            if fund is None:
                raise Http404
            services.fund_request(
                actor=request.user,
                fund=fund,
                household=household,
                measure=measure,
                amount=data["amount"],
                reason=data["reason"],
            )
        except (DomainError, PermissionDenied) as exc:
            form.add_error(None, _error(exc))
        else:
            messages.success(request, "已提交申请，等待镇领导小组审批。")
            return redirect("registry:household_detail", pk=household.pk)
    status = 422 if request.method == "POST" else 200
    context = {
        "form": form,
        "title": "申请基金支出",
        "household": household,
        "submit": "提交申请",
        "notice": notice,
    }
    return _page(request, "form.html", context, status)


def _request(request, pk: int, action: str) -> FundRequest:
    return get_for_user_or_404(
        FundRequest.objects.select_related("fund", "household", "measure__measure_type"),
        request.user,
        action,
        pk=pk,
    )


@requires("fund.approve")
@require_POST
def fund_decide(request, pk: int):
    """The 镇领导小组 approves or rejects a request."""
    req = _request(request, pk, "fund.approve")
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择批准或不批准")
        return redirect("assistance:fund_requests")
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.fund_decide(actor=request.user, request=req, approve=approve, note=form.cleaned_data["note"])
    except (DomainError, PermissionDenied) as exc:
        messages.error(request, _error(exc))
    else:
        messages.success(request, "已批准，等待镇扶贫工作站支付。" if approve else "已不予批准。")
    return redirect("assistance:fund_requests")


@requires("fund.pay")
@require_http_methods(["GET", "HEAD", "POST"])
def fund_pay(request, pk: int):
    """支付 an approved request: date and voucher number; refused if the fund's balance does not cover it."""
    req = _request(request, pk, "fund.pay")
    form = PayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.fund_pay(actor=request.user, request=req, **form.cleaned_data)
        except (DomainError, PermissionDenied) as exc:
            form.add_error(None, _error(exc))
        else:
            messages.success(request, "已支付并记入资金台账。")
            return redirect("assistance:fund_ledger", pk=req.fund_id)
    notice = (
        f"{req.fund.name}（余额 {req.fund.balance:,.2f} 元）向 {req.household.number} 户支付 {req.amount:,.2f} 元："
        f"{req.reason}"
    )
    if req.state != RequestState.APPROVED:
        notice += f"。该申请{req.get_state_display()}，不能支付。"
    status = 422 if request.method == "POST" else 200
    context = {
        "form": form,
        "title": "支付",
        "household": req.household,
        "submit": "确认支付",
        "notice": notice,
        "closed": req.state != RequestState.APPROVED,
    }
    return _page(request, "form.html", context, status)


@requires("fund.pay")
@require_http_methods(["GET", "HEAD", "POST"])
def fund_reverse(request, pk: int):
    """冲正 a receipt or a payment: a new entry; the original stays as it was."""
    entry = get_for_user_or_404(FundEntry.objects.select_related("fund"), request.user, "fund.pay", pk=pk)
    form = ReverseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.fund_reverse(actor=request.user, entry=entry, **form.cleaned_data)
        except (DomainError, PermissionDenied) as exc:
            form.add_error(None, _error(exc))
        else:
            messages.success(request, "已冲正。")
            return redirect("assistance:fund_ledger", pk=entry.fund_id)
    money = entry.income or entry.expense
    notice = (
        f"冲正 {entry.fund.name} {entry.day:%Y-%m-%d} 的{entry.get_kind_display()} {money:,.2f} 元"
        f"（凭证号 {entry.voucher}）：{entry.summary}。冲正另记一笔，原记录不变。"
    )
    status = 422 if request.method == "POST" else 200
    context = {
        "form": form,
        "title": "冲正",
        "fund": entry.fund,
        "submit": "确认冲正",
        "notice": notice,
        "back": entry.fund,
    }
    return _page(request, "form.html", context, status)
