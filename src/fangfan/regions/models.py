"""The region tree, keyed by the 12-digit statistical code."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from fangfan.core.scoping import ScopedManager

from .codes import LEVEL_LABELS, Level


class Region(models.Model):
    """A province, city, county, town or village. The parent follows from the code; towns that were merged keep
    their row with ``valid_to`` and ``merged_into`` so that old records still resolve."""

    code = models.CharField(_("区划代码"), max_length=12, primary_key=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(
        _("级别"), choices=[(int(k), v) for k, v in LEVEL_LABELS.items()]
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        db_constraint=False,
    )
    valid_from = models.DateField(_("启用日期"), null=True, blank=True)
    valid_to = models.DateField(_("停用日期"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("并入"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )

    objects = ScopedManager()
    region_field = "code"
    # Not guarded (docs/architecture.md): the code tree is public administrative structure (the published
    # division codes), read to name places on every page; ``for_user`` still narrows pickers and lists.
    scope_guarded = False

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "code"], name="region_parent_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_label(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def region_code(self) -> str:
        return self.code

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[Level(self.level)]
