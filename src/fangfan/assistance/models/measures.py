"""帮扶措施: the measure catalogue, measures per household and risk point, their evidence, the M8 exceptions and the
steps that close a risk point (plan M1, M5, M8, M10, M12; DOMAIN.md §6)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangfan.accounts.roles import Department
from fangfan.core.scoping import ScopedManager
from fangfan.monitoring.choices import RiskType

from ..choices import (
    Category,
    ClosureStep,
    ExceptionCause,
    ExceptionProblem,
    ExceptionState,
    Kind,
    MeasureState,
)

MONEY = {"max_digits": 14, "decimal_places": 2}


class MeasureType(models.Model):
    """One measure of the catalogue (低保, 雨露计划, 公益岗位…): its category, its kind (开发式 / 补贴式 / 兜底保障, which
    M8 reads), the department that usually carries it out and the risk types it suits. The county adds and retires
    measures; a retired one stays on the measures that used it and is offered to no new one."""

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("措施名称"), max_length=50, unique=True)
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)
    kind = models.CharField(_("性质"), max_length=20, choices=Kind.choices)
    department = models.CharField(_("责任部门"), max_length=20, choices=Department.choices, blank=True)
    risk_types = models.JSONField(_("适用风险类型"), default=list, blank=True)
    active = models.BooleanField(_("在用"), default=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=100)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("帮扶措施目录")
        verbose_name_plural = _("帮扶措施目录")
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_label(self) -> str:
        return f"措施目录 {self.name}"

    @property
    def risk_type_labels(self) -> list[str]:
        labels = dict(RiskType.choices)
        return [labels.get(r, r) for r in self.risk_types]


class PolicyException(models.Model):
    """M8's exception: a 不享受政策 exited household hit by a major disaster or a family change that causes a
    两不愁三保障 or drinking-water problem it cannot bear may get 补贴式 measures again. Asked for by the village or
    the town, approved (or not) by the town station; every step audited."""

    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("农户"),
        on_delete=models.PROTECT,
        related_name="policy_exceptions",
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12)
    cause = models.CharField(_("原因类别"), max_length=20, choices=ExceptionCause.choices)
    problem = models.CharField(_("无力解决的问题"), max_length=20, choices=ExceptionProblem.choices)
    reason = models.CharField(_("情况说明"), max_length=500)
    state = models.CharField(
        _("状态"), max_length=12, choices=ExceptionState.choices, default=ExceptionState.REQUESTED
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
        verbose_name = _("差异化政策例外")
        verbose_name_plural = _("差异化政策例外")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["household", "state"], name="exception_household_idx")]

    def __str__(self) -> str:
        return f"政策例外 {self.pk}"

    @property
    def audit_label(self) -> str:
        return f"政策例外 {self.pk}"


class Measure(models.Model):
    """One measure for a household (帮扶措施, 逐户逐项): for one of its risk points, or for the household as a whole
    (``risk`` empty). Planned, then carried out by the department or cadre responsible: 计划 → 落实中 → 已落实, or
    未落实 with the reason."""

    household = models.ForeignKey(
        "registry.Household", verbose_name=_("农户"), on_delete=models.PROTECT, related_name="measures"
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12)
    risk = models.ForeignKey(
        "monitoring.RiskPoint",
        verbose_name=_("风险点"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="measures",
    )
    measure_type = models.ForeignKey(
        MeasureType, verbose_name=_("措施"), on_delete=models.PROTECT, related_name="measures"
    )
    department = models.CharField(_("责任部门"), max_length=20, choices=Department.choices, blank=True)
    responsible = models.CharField(_("责任人"), max_length=50, blank=True)
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任人账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    planned_on = models.DateField(_("计划日期"))
    done_on = models.DateField(_("落实日期"), null=True, blank=True)
    amount = models.DecimalField(_("金额（元）"), null=True, blank=True, **MONEY)
    state = models.CharField(
        _("状态"), max_length=12, choices=MeasureState.choices, default=MeasureState.PLANNED
    )
    note = models.CharField(
        _("落实情况"), max_length=500, blank=True
    )  # the 未落实 reason, or the last progress note
    exception = models.ForeignKey(
        PolicyException,
        verbose_name=_("政策例外"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="measures",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # 0 when the household is a priority of M8 (监测对象 whose risk is not eliminated, or 脱贫监测户), else 1: the
    # list's first sort key, kept equal to the household's by database triggers (assistance migration 0006) for
    # every writer, so a town's page reads its order from an index instead of joining every measure's household.
    priority = models.PositiveSmallIntegerField(_("监测对象优先"), default=1, db_default=1, editable=False)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("帮扶措施")
        verbose_name_plural = _("帮扶措施")
        ordering = ["planned_on", "id"]
        indexes = [
            # Covering for the 措施落实 list and its doubts: a town's measures with the household (to sort the
            # monitored first) and the measure type (category, 兜底保障) read from the index alone.
            models.Index(
                fields=["region_code", "state", "planned_on", "household", "measure_type"],
                name="measure_region_cover_idx",
            ),
            # The 措施落实 list's order (monitored first, then the planned date) over a town's range, index only.
            models.Index(
                fields=["region_code", "priority", "planned_on", "id", "state"],
                name="measure_region_order_idx",
            ),
            # A department's 待落实措施 (计划, 落实中: two ranges of the state) in the same order, index only; with
            # the state after the region PostgreSQL read the department's measures from the table (2.9 → 0.7 ms).
            models.Index(
                fields=["department", "state", "region_code", "priority", "planned_on", "id"],
                name="measure_department_idx",
            ),
            models.Index(fields=["household", "state"], name="measure_household_idx"),
        ]

    def __str__(self) -> str:
        return f"帮扶措施 {self.pk}"

    @property
    def audit_label(self) -> str:
        return f"帮扶措施 {self.pk}"

    @classmethod
    def narrow_for_user(cls, qs, user, action):
        """A department user sees only the measures assigned to its department (待落实措施)."""
        if getattr(user, "role", "") == "department":
            return qs.filter(department=user.department)
        return qs


class MeasureEvidence(models.Model):
    """A photo (jpg/png) or PDF proving a measure was carried out, stored under the data directory with a random
    name (mode 0600) and served only to those who may see its measure; its address carries only this row's id."""

    measure = models.ForeignKey(
        Measure, verbose_name=_("帮扶措施"), on_delete=models.PROTECT, related_name="evidence"
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12)
    stored_name = models.CharField(_("存储文件名"), max_length=80, unique=True)
    file_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("校验值"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"佐证材料 {self.pk}"

    @property
    def audit_label(self) -> str:
        return f"佐证材料 {self.pk}"

    @classmethod
    def narrow_for_user(cls, qs, user, action):
        if getattr(user, "role", "") == "department":
            return qs.filter(measure__department=user.department)
        return qs


class RiskClosure(models.Model):
    """One step of closing a risk point: closed by the town station, asked for by the village clerk (待镇确认), then
    confirmed or returned by the town station — with the date, the note and who acted."""

    risk = models.ForeignKey(
        "monitoring.RiskPoint", verbose_name=_("风险点"), on_delete=models.PROTECT, related_name="closures"
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12)
    step = models.CharField(_("环节"), max_length=12, choices=ClosureStep.choices)
    closed_on = models.DateField(_("消除日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("风险点消除记录")
        verbose_name_plural = _("风险点消除记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_step_display()} {self.closed_on or ''}"
