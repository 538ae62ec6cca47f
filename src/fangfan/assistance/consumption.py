"""消费帮扶 (plan M12 消费扶贫): a household's products and the sales arranged for them, and the totals the village
and the town see by product category and channel.

Writes check the actor's role and jurisdiction themselves, run in one transaction and record one audit event, like
``services``. A sale lowers the product's quantity still available (never below zero)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Count, F, QuerySet, Sum

from fangfan.core import audit
from fangfan.core.errors import Conflict, ValidationFailed

from .choices import ProductCategory, SalesChannel
from .models import Product, Sale
from .services import _choice, _ensure, _money, _not_future

if TYPE_CHECKING:
    from fangfan.accounts.models import User


def _quantity(value, what: str, *, positive: bool) -> Decimal:
    try:
        q = Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        raise ValidationFailed(f"{what}“{value}”不是数字") from None
    if not q.is_finite() or q < 0 or (positive and q == 0) or q != q.quantize(Decimal("0.01")):
        raise ValidationFailed(f"{what}应为{'大于' if positive else '不小于'} 0 的数，最多两位小数")
    if q >= Decimal("1e10"):
        raise ValidationFailed(f"{what}过大")
    return q


def product_add(
    *, actor: User, household, category: str, name: str, unit: str, available=0, season: str = ""
) -> Product:
    """Record a product a household has to sell (品类, name, unit, quantity available, season)."""
    _ensure(actor, "consumption.edit", household.region_id, "您的角色不能登记消费帮扶产品")
    if household.cancelled:
        raise Conflict("该户已注销")
    category = _choice(ProductCategory.choices, category, "品类")
    name, unit = (name or "").strip()[:50], (unit or "").strip()[:10]
    if not name or not unit:
        raise ValidationFailed("请填写产品名称和单位")
    available = _quantity(available, "可供数量", positive=False)
    with transaction.atomic():
        product = Product.objects.create(
            household=household,
            region_code=household.region_id,
            category=category,
            name=name,
            unit=unit,
            available=available,
            season=(season or "").strip()[:30],
            created_by=actor,
        )
        audit.record(
            actor,
            "consumption.product_added",
            product,
            after={"household": household.number, "category": category, "unit": unit, "available": available},
        )
    return product


def sale_record(
    *, actor: User, product: Product, channel: str, buyer: str, quantity, amount, day: date, unit: str = ""
) -> Sale:
    """Record a sale of a product through a channel; the quantity available falls by what was sold."""
    _ensure(actor, "consumption.edit", product.region_code, "您的角色不能登记消费帮扶销售")
    channel = _choice(SalesChannel.choices, channel, "渠道")
    quantity = _quantity(quantity, "数量", positive=True)
    money = _money(amount)
    if money is None or money <= 0:
        raise ValidationFailed("请填写大于 0 的金额")
    if not day:
        raise ValidationFailed("请填写销售日期")
    _not_future(day, "销售日期")
    with transaction.atomic():
        try:
            with transaction.atomic():
                changed = (
                    Product.objects.unscoped()
                    .filter(pk=product.pk, available__gte=quantity)
                    .update(available=F("available") - quantity)
                )
        except IntegrityError:
            changed = 0
        if not changed:
            left = Product.objects.unscoped().filter(pk=product.pk).values_list("available", flat=True).get()
            raise Conflict(f"销售数量 {quantity} 超过该产品的可供数量 {left}{product.unit}，请先更新可供数量")
        sale = Sale.objects.create(
            product=product,
            household_id=product.household_id,
            region_code=product.region_code,
            channel=channel,
            buyer=(buyer or "").strip()[:100],
            quantity=quantity,
            unit=(unit or "").strip()[:10] or product.unit,
            amount=money,
            day=day,
            recorded_by=actor,
        )
        audit.record(
            actor,
            "consumption.sale_recorded",
            sale,
            after={
                "product": product.pk,
                "channel": channel,
                "quantity": quantity,
                "amount": money,
                "day": day,
            },
        )
    product.available -= quantity
    return sale


def product_restock(*, actor: User, product: Product, available) -> Product:
    """Set the quantity a product still has to sell (a new harvest, a correction)."""
    _ensure(actor, "consumption.edit", product.region_code, "您的角色不能修改消费帮扶产品")
    available = _quantity(available, "可供数量", positive=False)
    with transaction.atomic():
        p = Product.objects.lock(product)
        before = p.available
        p.available = available
        p.save(update_fields=["available"])
        audit.record(
            actor,
            "consumption.product_restocked",
            p,
            before={"available": before},
            after={"available": available},
        )
    product.available = available
    return p


# --- reads ------------------------------------------------------------------------------------------------------


def sales_for_user(user, action: str = "consumption.view") -> QuerySet[Sale]:
    return Sale.objects.for_user(user, action)


def sales_filtered(
    user, *, village: str = "", date_from: date | None = None, date_to: date | None = None
) -> QuerySet[Sale]:
    qs = sales_for_user(user)
    if village:
        qs = qs.filter(region_code=village)
    if date_from:
        qs = qs.filter(day__gte=date_from)
    if date_to:
        qs = qs.filter(day__lte=date_to)
    return qs


def sales_totals(qs: QuerySet[Sale]) -> dict:
    """Totals by product category (rows) and channel (columns), in one grouped query: amounts, plus the number of
    sales and of households. Also the ECharts option of a stacked bar chart (one series per channel)."""
    cells: dict[tuple[str, str], Decimal] = {}
    households: set[int] = set()
    count = 0
    for category, channel, amount, n in (
        qs.order_by()
        .values_list("product__category", "channel")
        .annotate(total=Sum("amount"), n=Count("id"))
        .values_list("product__category", "channel", "total", "n")
    ):
        cells[(category, channel)] = amount or Decimal(0)
        count += n
    households = set(qs.order_by().values_list("household_id", flat=True).distinct())
    categories = [(c, str(label)) for c, label in ProductCategory.choices if any(k[0] == c for k in cells)]
    channels = [(c, str(label)) for c, label in SalesChannel.choices]
    rows = []
    for code, label in categories:
        values = [cells.get((code, ch), Decimal(0)) for ch, _l in channels]
        rows.append({"label": label, "cells": values, "total": sum(values, Decimal(0))})
    column_totals = [
        sum((cells.get((c, ch), Decimal(0)) for c, _l in categories), Decimal(0)) for ch, _l in channels
    ]
    chart = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 8, "right": 8, "bottom": 8, "top": 40, "containLabel": True},
        "xAxis": {"type": "category", "data": [label for _c, label in categories]},
        "yAxis": {"type": "value", "name": "元"},
        "series": [
            {
                "name": ch_label,
                "type": "bar",
                "stack": "amount",
                "data": [float(cells.get((c, ch), 0)) for c, _l in categories],
            }
            for ch, ch_label in channels
            if any((c, ch) in cells for c, _l in categories)
        ],
    }
    return {
        "channels": channels,
        "rows": rows,
        "column_totals": column_totals,
        "total": sum(column_totals, Decimal(0)),
        "sales": count,
        "households": len(households),
        "chart": chart,
    }


__all__ = [
    "product_add",
    "product_restock",
    "sale_record",
    "sales_filtered",
    "sales_for_user",
    "sales_totals",
]
