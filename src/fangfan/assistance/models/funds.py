"""资金: the town's 慈善关爱基金, the town's or a village's 救急难基金 and any other fund a town keeps (plan M10, M12),
their append-only ledger and the disbursement requests the 镇领导小组 decides.

The balance lives on the fund's row and can never go negative: a CHECK constraint says so in the database, and
every payment lowers it with one conditional ``UPDATE`` (``funds.fund_pay``), so that of two payments that each fit
alone but not together exactly one is made."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangfan.core.scoping import ScopedManager

from ..choices import EntryKind, FundKind, RequestState

MONEY = {"max_digits": 14, "decimal_places": 2}


class Fund(models.Model):
    """A fund owned by a town or a village: its kind, its balance (kept here, changed only by ledger entries)."""

    name = models.CharField(_("基金名称"), max_length=60)
    kind = models.CharField(_("类别"), max_length=12, choices=FundKind.choices)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+"
    )
    balance = models.DecimalField(_("余额（元）"), default=0, **MONEY)
    active = models.BooleanField(_("在用"), default=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("设立人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("设立时间"), auto_now_add=True)

    objects = ScopedManager()
    region_field = "region_id"

    class Meta:
        verbose_name = _("帮扶资金")
        verbose_name_plural = _("帮扶资金")
        ordering = ["region_id", "kind", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="fund_balance_not_negative"),
            models.UniqueConstraint(fields=["region", "name"], name="fund_region_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_label(self) -> str:
        return f"基金 {self.name}"


class FundRequest(models.Model):
    """A request to pay a household from a fund, for one of its measures (or the household as a whole): asked by
    the village clerk or the town station, approved or rejected by the town's 镇领导小组, paid by the town station.
    ``advance``: 先行救助 from a 救急难基金 for a household not yet identified, within the policy's per-case limit."""

    fund = models.ForeignKey(Fund, verbose_name=_("基金"), on_delete=models.PROTECT, related_name="requests")
    household = models.ForeignKey(
        "registry.Household", verbose_name=_("农户"), on_delete=models.PROTECT, related_name="fund_requests"
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12)
    measure = models.ForeignKey(
        "assistance.Measure",
        verbose_name=_("帮扶措施"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fund_requests",
    )
    exception = models.ForeignKey(
        "assistance.PolicyException",
        verbose_name=_("政策例外"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fund_requests",
    )
    amount = models.DecimalField(_("金额（元）"), **MONEY)
    reason = models.CharField(_("事由"), max_length=300)
    advance = models.BooleanField(_("先行救助"), default=False)
    state = models.CharField(
        _("状态"), max_length=12, choices=RequestState.choices, default=RequestState.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("资金申请")
        verbose_name_plural = _("资金申请")
        ordering = ["-requested_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="fund_request_amount_positive")]
        indexes = [models.Index(fields=["fund", "state"], name="fund_request_state_idx")]

    def __str__(self) -> str:
        return f"资金申请 {self.pk}"

    @property
    def audit_label(self) -> str:
        return f"资金申请 {self.pk}"


class FundEntry(models.Model):
    """One line of a fund's ledger (资金台账): a receipt, a payment of an approved request, or a reversal (冲正) of
    an earlier entry. Never changed nor deleted; ``balance_after`` is the fund's balance once it was written."""

    fund = models.ForeignKey(Fund, verbose_name=_("基金"), on_delete=models.PROTECT, related_name="entries")
    # The fund's place for a receipt, the household's for a payment (and their reversals).
    region_code = models.CharField(_("行政区划代码"), max_length=12)
    kind = models.CharField(_("类型"), max_length=10, choices=EntryKind.choices)
    day = models.DateField(_("日期"))
    voucher = models.CharField(_("凭证号"), max_length=40)
    summary = models.CharField(_("摘要"), max_length=300)
    source = models.CharField(_("来源/捐赠方"), max_length=100, blank=True)
    income = models.DecimalField(_("收入（元）"), default=0, **MONEY)
    expense = models.DecimalField(_("支出（元）"), default=0, **MONEY)
    balance_after = models.DecimalField(_("余额（元）"), **MONEY)
    request = models.ForeignKey(
        FundRequest,
        verbose_name=_("资金申请"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
    )
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("农户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲正的记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("资金台账记录")
        verbose_name_plural = _("资金台账记录")
        ordering = ["fund", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(income__gt=0) & Q(expense=0)) | (Q(income=0) & Q(expense__gt=0)),
                name="fund_entry_one_direction",
            ),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="fund_entry_balance_not_negative"),
        ]
        indexes = [models.Index(fields=["fund", "day", "id"], name="fund_entry_day_idx")]

    def __str__(self) -> str:
        return f"资金台账记录 {self.pk}"

    @property
    def audit_label(self) -> str:
        return f"资金台账记录 {self.pk}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("资金台账只能追加，不能修改；更正请做冲正")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("资金台账只能追加，不能删除；更正请做冲正")
