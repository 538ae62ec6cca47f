"""Policy parameters per region and year (configuration, not code: DOMAIN.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangfan.core.scoping import ScopedManager


class PolicyValue(models.Model):
    """The value of one parameter for a region (and its subtree) from a year on. Changes are audited."""

    key = models.CharField(_("参数"), max_length=50)
    region = models.ForeignKey("regions.Region", verbose_name=_("适用区划"), on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(_("年度"))
    value = models.DecimalField(_("数值"), max_digits=14, decimal_places=4)
    note = models.CharField(_("依据"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = ScopedManager()
    region_field = "region_id"

    class Meta:
        verbose_name = _("政策参数")
        verbose_name_plural = _("政策参数")
        constraints = [models.UniqueConstraint(fields=["key", "region", "year"], name="policy_value_unique")]

    def __str__(self) -> str:
        return f"{self.key} {self.region_id} {self.year}"

    @property
    def audit_label(self) -> str:
        return f"{self.key}@{self.region_id}/{self.year}"
