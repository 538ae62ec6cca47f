"""联系记录 (plan 四(二)2): the contacts of a household's 帮扶责任人/联系人 and other cadres — assistance work, read by
the monthly 联系台账. Who is a household's 帮扶责任人 (``registry.HelperAssignment``) stays with the registry: see
docs/architecture.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangfan.core.scoping import ScopedManager


class ContactRecord(models.Model):
    """One contact with a household by its 帮扶责任人/联系人 or another cadre (plan 四(二)2: every month, by a home visit,
    a phone call, SMS, WeChat or video), and what was learned: living conditions, risks, needs. A risk found here
    is then registered as a warning (``monitoring``), which starts verification."""

    class Way(models.TextChoices):
        VISIT = "visit", _("入户走访")
        PHONE = "phone", _("电话")
        SMS = "sms", _("短信")
        WECHAT = "wechat", _("微信")
        VIDEO = "video", _("视频")

    household = models.ForeignKey(
        "registry.Household", verbose_name=_("农户"), on_delete=models.PROTECT, related_name="contacts"
    )
    contacted_on = models.DateField(_("联系日期"))
    way = models.CharField(_("联系方式"), max_length=10, choices=Way.choices)
    living = models.TextField(_("生活状况"), blank=True)
    risks = models.TextField(_("风险隐患"), blank=True)
    needs = models.TextField(_("帮扶需求"), blank=True)
    risk_found = models.BooleanField(_("发现返贫致贫风险"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("联系人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = ScopedManager()
    region_field = "household__region_id"

    class Meta:
        # Moved from ``registry`` (issue 17) without moving a row: the table keeps its name.
        db_table = "registry_contactrecord"
        verbose_name = _("联系记录")
        verbose_name_plural = _("联系记录")
        ordering = ["-contacted_on", "-id"]
        indexes = [
            # A household's contacts by date: its page, and the monthly ledger's "contacted this month" probe.
            models.Index(fields=["household", "contacted_on"], name="contact_household_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_way_display()} {self.contacted_on}"
