"""消费帮扶 pages: totals by product category and channel (table and bar chart) with the latest sales, the ledger
(.xlsx), and the forms reached from the household page (a product, a sale). Objects outside the jurisdiction: 404."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from fangfan.core.errors import DomainError
from fangfan.core.permissions import requires
from fangfan.core.scoping import get_for_user_or_404
from fangfan.monitoring.selectors import village_choices

from . import consumption as services
from .fund_forms import ConsumptionFilterForm, ProductForm, SaleForm
from .ledger_exports import consumption_ledger_export, month_span
from .models import Product
from .views import _household

PAGE_SIZE = 50


def _filters(request):
    villages = village_choices(request.user)
    form = ConsumptionFilterForm(request.GET or None, villages=villages)
    values = form.values()
    return form, values.get("village", ""), values.get("month", ""), dict(villages)


@requires("consumption.view")
@require_safe
def consumption_summary(request):
    """消费帮扶: sales totals by product category and channel, for a village and a month if chosen."""
    form, village, month, villages = _filters(request)
    span = month_span(month)
    qs = services.sales_filtered(
        request.user, village=village, date_from=span[0] if span else None, date_to=span[1] if span else None
    )
    totals = services.sales_totals(qs)
    page = Paginator(qs.select_related("household", "product").order_by("-day", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for s in page.object_list:
        s.village_name = villages.get(s.region_code, "")
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": form,
        "totals": totals,
        "page": page,
        "query": query.urlencode(),
        "chart_id": "consumption-chart",
    }
    return render(request, "assistance/consumption/summary.html", context)


@requires("consumption.view")
@require_safe
def consumption_export(request):
    """消费帮扶台账 (.xlsx) for the village and month filtered on the page."""
    _form, village, month, _villages = _filters(request)
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes (and so deletes) it
    consumption_ledger_export(actor=request.user, path=target, region=village, month=month or None)
    target.seek(0)
    return FileResponse(
        target,
        as_attachment=True,
        filename=f"消费帮扶台账-{timezone.localdate():%Y%m%d}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _form_page(request, household, form, *, title: str, submit: str, notice: str = "", status: int = 200):
    context = {"form": form, "title": title, "household": household, "submit": submit, "notice": notice}
    return render(request, "assistance/funds/form.html", context, status=status)


@requires("consumption.edit")
@require_http_methods(["GET", "HEAD", "POST"])
def product_add(request, pk: int):
    """登记产品 a household has to sell."""
    household = _household(request, pk, "consumption.edit")
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.product_add(actor=request.user, household=household, **form.cleaned_data)
        except (DomainError, PermissionDenied) as exc:
            form.add_error(None, getattr(exc, "message", None) or str(exc))
        else:
            messages.success(request, "产品已登记。")
            return redirect("registry:household_detail", pk=household.pk)
    status = 422 if request.method == "POST" else 200
    return _form_page(request, household, form, title="登记消费帮扶产品", submit="登记", status=status)


@requires("consumption.edit")
@require_http_methods(["GET", "HEAD", "POST"])
def sale_add(request, pk: int):
    """登记销售 of a household's product."""
    product = get_for_user_or_404(
        Product.objects.select_related("household__region"), request.user, "consumption.edit", pk=pk
    )
    form = SaleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sale_record(actor=request.user, product=product, **form.cleaned_data)
        except (DomainError, PermissionDenied) as exc:
            form.add_error(None, getattr(exc, "message", None) or str(exc))
        else:
            messages.success(request, "销售已登记。")
            return redirect("registry:household_detail", pk=product.household_id)
    notice = f"{product.name}（{product.get_category_display()}），可供 {product.available:g} {product.unit}"
    if product.season:
        notice += f"，上市季节 {product.season}"
    status = 422 if request.method == "POST" else 200
    return _form_page(
        request,
        product.household,
        form,
        title="登记消费帮扶销售",
        submit="登记",
        notice=notice,
        status=status,
    )
