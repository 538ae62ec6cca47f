"""Approval chains as data (DESIGN.md "Chains: processes as data"): a process version and its ordered steps, cases
(one household, one decision) with every action taken on them, and the files attached to a case.

A new version of a process applies to new cases; an open case keeps the version (and so the steps) it started
with. Nothing here changes state in ``save()``: ``services.case_act`` moves a case.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangfan.core.scoping import ScopedManager
from fangfan.registry.choices import ExitedClass, MonitoringType

from .choices import (
    Action,
    AttachmentKind,
    CaseState,
    EliminationWay,
    Kind,
    ProcessCode,
    Source,
    StepLevel,
)


class Process(models.Model):
    """One version of a process (纳入监测, 分类调整, 风险消除…): its steps are its own."""

    code = models.CharField(_("流程"), max_length=30, choices=ProcessCode.choices)
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    name = models.CharField(_("名称"), max_length=60)
    active = models.BooleanField(_("在用"), default=True)
    # From the start of a case to its decision (纳入监测: 15 days from the clue, DOMAIN.md §5).
    limit_days = models.PositiveSmallIntegerField(_("办理时限（天）"), default=15)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("审批流程")
        verbose_name_plural = _("审批流程")
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="process_code_version")]

    def __str__(self) -> str:
        return f"{self.name}（第{self.version}版）"

    @property
    def audit_label(self) -> str:
        return f"流程 {self.code} v{self.version}"


class Step(models.Model):
    """One step of a process version: who acts (role, at which level of the household's region), within how
    many days, with which data and attachments. ``enabled`` false: a configured-off step (分类调整's county
    review) that the chain passes by."""

    process = models.ForeignKey(
        Process, verbose_name=_("流程"), on_delete=models.PROTECT, related_name="steps"
    )
    order = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("环节"), max_length=40)
    role = models.CharField(_("办理角色"), max_length=20)
    level = models.CharField(_("办理层级"), max_length=10, choices=StepLevel.choices)
    limit_days = models.PositiveSmallIntegerField(_("时限（天）"), default=3)
    data_schema = models.CharField(_("须填资料"), max_length=20, blank=True)
    attachment_kinds = models.JSONField(_("须附材料"), default=list, blank=True)
    enabled = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("流程环节")
        verbose_name_plural = _("流程环节")
        ordering = ["process", "order"]
        constraints = [models.UniqueConstraint(fields=["process", "order"], name="step_process_order")]

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    """One household, one decision (纳入监测, 风险消除, 分类调整, 回退), moved step by step by ``services.case_act``.
    ``version`` grows with every action: an approver's action names the version it saw, so two approvers of
    the same step cannot both win."""

    household = models.ForeignKey(
        "registry.Household", verbose_name=_("农户"), on_delete=models.PROTECT, related_name="cases"
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12)
    process = models.ForeignKey(
        Process, verbose_name=_("流程"), on_delete=models.PROTECT, related_name="cases"
    )
    kind = models.CharField(_("事项"), max_length=12, choices=Kind.choices)
    state = models.CharField(_("状态"), max_length=10, choices=CaseState.choices, default=CaseState.OPEN)
    current_step = models.ForeignKey(
        Step, verbose_name=_("当前环节"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    step_since = models.DateTimeField(_("进入当前环节时间"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本号"), default=1)
    reason = models.CharField(_("事由"), max_length=500)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices, blank=True)
    monitoring_type = models.CharField(
        _("拟认定监测对象类型"), max_length=20, choices=MonitoringType.choices, blank=True
    )
    risk_types = models.JSONField(_("风险类型"), default=list, blank=True)
    exited_class = models.CharField(_("拟调整分类"), max_length=20, choices=ExitedClass.choices, blank=True)
    elimination_way = models.CharField(
        _("消除方式"), max_length=10, choices=EliminationWay.choices, blank=True
    )
    # The household's official fields before the decision (kept when the case ends 已办结).
    before = models.JSONField(_("办结前状态"), default=dict, blank=True)
    overridden = models.BooleanField(_("越过未满足条件（存疑）"), default=False)
    due_on = models.DateField(_("办结期限"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    ended_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("审批事项")
        verbose_name_plural = _("审批事项")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["region_code", "state", "current_step"], name="case_region_state_idx"),
            models.Index(fields=["household", "state"], name="case_household_idx"),
            # 我的待办 (selectors.waiting_for): a step's open cases in 办结期限 order, the region read from the index.
            models.Index(
                fields=["current_step", "state", "due_on", "id", "region_code"], name="case_waiting_idx"
            ),
        ]
        constraints = [
            # One open case per household and decision.
            models.UniqueConstraint(
                fields=["household", "kind"],
                condition=models.Q(state="open"),
                name="case_one_open_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"审批 {self.pk}"

    @property
    def audit_label(self) -> str:
        return f"审批 {self.pk} {self.get_kind_display()}"

    @property
    def risk_type_labels(self) -> list[str]:
        from fangfan.monitoring.choices import RiskType

        labels = dict(RiskType.choices)
        return [str(labels.get(r, r)) for r in self.risk_types]


class CaseAction(models.Model):
    """One action on a case: who did what at which step, when, with which comment and data."""

    case = models.ForeignKey(
        Case, verbose_name=_("审批事项"), on_delete=models.PROTECT, related_name="actions"
    )
    step = models.ForeignKey(
        Step, verbose_name=_("环节"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("办理人"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    comment = models.CharField(_("意见"), max_length=500, blank=True)
    data = models.JSONField(_("环节资料"), default=dict, blank=True)
    override_reason = models.CharField(_("越过条件理由"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d}"


class CaseAttachment(models.Model):
    """A signed consent, meeting minutes, a photo of the posted notice…: jpg/png/pdf by content, ≤ 10 MB, stored
    under the data directory with a random name (mode 0600), served only to those who may see the case."""

    case = models.ForeignKey(
        Case, verbose_name=_("审批事项"), on_delete=models.PROTECT, related_name="attachments"
    )
    step = models.ForeignKey(
        Step, verbose_name=_("环节"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12)
    kind = models.CharField(_("材料类型"), max_length=20, choices=AttachmentKind.choices)
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
        verbose_name = _("审批材料")
        verbose_name_plural = _("审批材料")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"审批材料 {self.pk}"

    @property
    def audit_label(self) -> str:
        return f"审批材料 {self.pk}"


__all__ = ["Action", "Case", "CaseAction", "CaseAttachment", "Process", "Step"]
