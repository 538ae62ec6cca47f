"""消费帮扶 (plan M12 消费扶贫): what a household has to sell, and each sale arranged for it through a channel (a
unit's canteen, an e-commerce platform, a fair…), recorded by the village clerk or the town station."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangfan.core.scoping import ScopedManager

from ..choices import ProductCategory, SalesChannel

MONEY = {"max_digits": 14, "decimal_places": 2}
QUANTITY = {"max_digits": 12, "decimal_places": 2}


class Product(models.Model):
    """A farm product of a household: its category, name, unit, the quantity it can still sell and its season."""

    household = models.ForeignKey(
        "registry.Household", verbose_name=_("农户"), on_delete=models.PROTECT, related_name="products"
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12)
    category = models.CharField(_("品类"), max_length=12, choices=ProductCategory.choices)
    name = models.CharField(_("产品名称"), max_length=50)
    unit = models.CharField(_("单位"), max_length=10)
    available = models.DecimalField(_("可供数量"), default=0, **QUANTITY)
    season = models.CharField(_("上市季节"), max_length=30, blank=True)
    active = models.BooleanField(_("在售"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("农户产品")
        verbose_name_plural = _("农户产品")
        ordering = ["household", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(available__gte=0), name="product_available_not_negative")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_label(self) -> str:
        return f"农户产品 {self.pk}"


class Sale(models.Model):
    """One sale of a household's product through a channel to a buyer (a unit's name, free text)."""

    product = models.ForeignKey(
        Product, verbose_name=_("产品"), on_delete=models.PROTECT, related_name="sales"
    )
    household = models.ForeignKey(
        "registry.Household", verbose_name=_("农户"), on_delete=models.PROTECT, related_name="sales"
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12)
    channel = models.CharField(_("渠道"), max_length=12, choices=SalesChannel.choices)
    buyer = models.CharField(_("购买方"), max_length=100, blank=True)
    quantity = models.DecimalField(_("数量"), **QUANTITY)
    unit = models.CharField(_("单位"), max_length=10)
    amount = models.DecimalField(_("金额（元）"), **MONEY)
    day = models.DateField(_("日期"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("消费帮扶销售")
        verbose_name_plural = _("消费帮扶销售")
        ordering = ["-day", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sale_quantity_positive"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="sale_amount_positive"),
        ]
        indexes = [models.Index(fields=["region_code", "day"], name="sale_region_day_idx")]

    def __str__(self) -> str:
        return f"销售 {self.pk}"

    @property
    def audit_label(self) -> str:
        return f"消费帮扶销售 {self.pk}"
