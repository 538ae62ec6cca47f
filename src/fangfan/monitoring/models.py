"""Early warning: department data, rules, warnings, verification tasks and risk points (plan M4, M5; DOMAIN.md §4–5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangfan.core.crypto import EncryptedTextField
from fangfan.core.scoping import ScopedManager

from .choices import Channel, RiskType, Source

MONEY = {"max_digits": 14, "decimal_places": 2}


class FromDepartmentData:
    """Rows that carry a department ``source``: a department user sees only its own department's."""

    @classmethod
    def narrow_for_user(cls, qs, user, action):
        if getattr(user, "role", "") == "department":
            return qs.filter(source=user.department)
        return qs


class DepartmentBatch(FromDepartmentData, models.Model):
    """One file of department data (a month's 医保 settlements, 民政's 低保 list…): who sent it, when, how many rows
    matched a registered member and how many did not. Unmatched rows are kept and can be downloaded back."""

    class State(models.TextChoices):
        CHECKED = "checked", _("已检查（未导入）")
        IMPORTED = "imported", _("已导入")
        SCREENED = "screened", _("已筛查")

    source = models.CharField(_("数据来源"), max_length=20, choices=Source.choices)
    file_name = models.CharField(_("文件名"), max_length=200)
    channel = models.CharField(_("报送方式"), max_length=10, default="web")  # web / cli / api
    region = models.ForeignKey("regions.Region", verbose_name=_("报送区划"), on_delete=models.PROTECT)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("报送时间"), auto_now_add=True)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    matched = models.PositiveIntegerField(_("已匹配"), default=0)
    unmatched = models.PositiveIntegerField(_("未匹配"), default=0)
    name_mismatches = models.PositiveIntegerField(_("姓名不一致"), default=0)
    warnings_raised = models.PositiveIntegerField(_("产生预警"), default=0)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.IMPORTED)
    # SHA-256 of the file (or of the API's rows): the same content for the same source and region is one batch,
    # however often it is posted (a reload of the result page made 31 identical batches, issue 17).
    content_hash = models.CharField(_("内容摘要"), max_length=64, blank=True, default="")

    objects = ScopedManager()
    region_field = "region_id"

    class Meta:
        verbose_name = _("部门数据批次")
        verbose_name_plural = _("部门数据批次")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "region", "content_hash"],
                condition=~models.Q(content_hash=""),
                name="department_batch_once_per_content",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.file_name}"

    @property
    def audit_label(self) -> str:
        return f"批次 {self.pk} {self.get_source_display()}"

    @property
    def region_code(self) -> str:
        return self.region_id


class DepartmentRecord(FromDepartmentData, models.Model):
    """One row of a department batch, matched to a member by the ID blind index (or left unmatched, never
    dropped). The columns the rules read are typed; everything else stays in ``data``."""

    batch = models.ForeignKey(
        DepartmentBatch, verbose_name=_("批次"), on_delete=models.CASCADE, related_name="records"
    )
    source = models.CharField(_("数据来源"), max_length=20, choices=Source.choices)
    row_number = models.PositiveIntegerField(_("行号"))
    id_index = models.CharField(_("证件号码索引"), max_length=64, db_index=True)
    id_masked = models.CharField(_("证件号码（脱敏）"), max_length=24)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    member = models.ForeignKey(
        "registry.Member",
        verbose_name=_("匹配成员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="department_records",
    )
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("匹配农户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="department_records",
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12, blank=True)
    name_mismatch = models.BooleanField(_("姓名不一致"), default=False)
    event_date = models.DateField(_("日期"), null=True, blank=True)
    kind = models.CharField(_("类型"), max_length=30, blank=True)  # 救助类型 / 灾害类型 / 事件 / 学段 …
    status = models.CharField(_("状态"), max_length=20, blank=True)  # 新增/在保/停保, 辍学, 失业/返乡, 死亡 …
    grade = models.CharField(_("等级"), max_length=10, blank=True)  # 鉴定等级, 残疾等级
    amount = models.DecimalField(_("金额"), null=True, blank=True, **MONEY)  # 个人自付金额, 损失金额
    total_amount = models.DecimalField(_("总额"), null=True, blank=True, **MONEY)
    flag = models.BooleanField(_("是否"), null=True, blank=True)  # 饮水安全
    data = models.JSONField(_("其他列"), default=dict, blank=True)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("部门数据")
        verbose_name_plural = _("部门数据")
        indexes = [
            models.Index(fields=["source", "household"], name="deprec_source_hh_idx"),
            models.Index(fields=["batch", "member"], name="deprec_batch_member_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.row_number}"


class Rule(models.Model):
    """A screening rule: its code, the national risk type it points to, whether it is a poverty risk or a data
    doubt (疑点) to be checked, and the Chinese template of its explanation. The SQL that applies it lives in
    ``monitoring.rules`` under the same code; the parameters it reads come from the policy table."""

    class Kind(models.TextChoices):
        RISK = "risk", _("风险预警")
        DOUBT = "doubt", _("数据疑点")

    code = models.CharField(_("规则编码"), max_length=40, primary_key=True)
    name = models.CharField(_("规则名称"), max_length=100)
    risk_type = models.CharField(_("风险类型"), max_length=20, choices=RiskType.choices)
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices, default=Kind.RISK)
    source = models.CharField(
        _("数据来源"), max_length=20, blank=True
    )  # a department source, or "" = registry
    template = models.CharField(_("说明模板"), max_length=300)
    parameters = models.JSONField(_("使用的政策参数"), default=list, blank=True)
    enabled = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("预警规则")
        verbose_name_plural = _("预警规则")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class VerificationTask(models.Model):
    """One visit that settles every open warning of a household (M14: no household visited twice for the same
    thing). Due ``verify_days`` after it is opened (入户核查 3 days)."""

    class State(models.TextChoices):
        OPEN = "open", _("待核查")
        DONE = "done", _("已核查")

    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("农户"),
        on_delete=models.PROTECT,
        related_name="verification_tasks",
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12)  # indexed first in task_region_state_idx
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField(_("派发时间"), auto_now_add=True)
    due_date = models.DateField(_("核查期限"))
    decide_by = models.DateField(_("认定期限"))
    # The users are audit references: no index and no database constraint (the ORM still applies on_delete),
    # which each of the 67 000 tasks a first county screening opens paid for.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_index=False,
        db_constraint=False,
        verbose_name=_("核查人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    visited_on = models.DateField(_("核查日期"), null=True, blank=True)
    visit_way = models.CharField(_("核查方式"), max_length=20, blank=True)
    finding = models.TextField(_("核查情况"), blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_index=False,
        db_constraint=False,
        verbose_name=_("核查人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("核查任务")
        verbose_name_plural = _("核查任务")
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=models.Q(state="open"), name="one_open_task"
            ),
        ]
        indexes = [models.Index(fields=["region_code", "state", "due_date"], name="task_region_state_idx")]

    def __str__(self) -> str:
        return f"核查任务 {self.pk}"

    @property
    def audit_label(self) -> str:
        return f"核查任务 {self.pk}"


class EarlyWarning(FromDepartmentData, models.Model):
    """An early warning on a household: raised by a rule over the registry or department data, or by a person
    (self-report, cadre screening, inspection, city feedback). Lifecycle 待核查 → 核查中 → 已确认 / 已排除.

    ``dedupe_key`` names the evidence (a department record, or the registry state a rule saw); the same rule on
    the same evidence never raises twice, and an open warning of a rule is never duplicated for a household."""

    class State(models.TextChoices):
        PENDING = "pending", _("待核查")
        VERIFYING = "verifying", _("核查中")
        CONFIRMED = "confirmed", _("已确认")
        EXCLUDED = "excluded", _("已排除")

    OPEN_STATES = (State.PENDING, State.VERIFYING)

    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("农户"),
        on_delete=models.PROTECT,
        related_name="warnings",
        db_index=False,  # covered by warning_once_per_evidence (household first)
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12)
    # No database constraint on the references below (the ORM still protects them): the rule is a catalogue row
    # that is never deleted (``rule_code`` repeats it), the users are audit references; each constraint cost a
    # lookup and a row lock per inserted warning (a first county screening writes 80 000).
    rule = models.ForeignKey(
        Rule,
        verbose_name=_("规则"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
    )
    rule_code = models.CharField(_("规则编码"), max_length=40, blank=True)
    risk_type = models.CharField(_("风险类型"), max_length=20, choices=RiskType.choices)
    kind = models.CharField(_("类别"), max_length=10, choices=Rule.Kind.choices, default=Rule.Kind.RISK)
    channel = models.CharField(_("来源"), max_length=20, choices=Channel.choices)
    source = models.CharField(
        _("数据来源"), max_length=20, blank=True
    )  # department source when from its data
    record = models.ForeignKey(
        DepartmentRecord,
        db_index=False,
        verbose_name=_("部门数据"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="warnings",
    )
    dedupe_key = models.CharField(_("证据标识"), max_length=80)
    explanation = models.CharField(_("预警说明"), max_length=500)
    evidence = models.JSONField(_("证据"), default=dict, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    task = models.ForeignKey(
        VerificationTask,
        verbose_name=_("核查任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="warnings",
    )
    exclude_reason = models.CharField(_("排除理由"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("产生时间"), db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_index=False,
        db_constraint=False,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_index=False,
        db_constraint=False,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "rule_code", "dedupe_key"], name="warning_once_per_evidence"
            ),
            models.UniqueConstraint(
                fields=["household", "rule_code"],
                condition=models.Q(state__in=["pending", "verifying"]) & ~models.Q(rule_code=""),
                name="warning_open_once_per_rule",
            ),
        ]
        indexes = [
            models.Index(fields=["region_code", "state", "created_at"], name="warning_region_state_idx"),
            # Pending = not yet in a verification task (``services.tasks_bundle`` looks for them); a screening
            # writes its warnings already attached, so this index stays tiny and costs it nothing.
            models.Index(
                fields=["household"], condition=models.Q(state="pending"), name="warning_pending_idx"
            ),
            models.Index(fields=["source", "region_code", "state"], name="warning_source_idx"),
            # Only rows raised from department data: deleting a record must not scan every warning.
            models.Index(
                fields=["record"], condition=models.Q(record__isnull=False), name="warning_record_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"预警 {self.pk}"

    @property
    def audit_label(self) -> str:
        return f"预警 {self.pk}"


class RiskPoint(models.Model):
    """A confirmed risk on a household (返贫/致贫风险点): type, source, found date, the deadline to remove it
    (限期消除), state and evidence. Elimination is a mark, never a deletion. A village clerk's request to close it
    waits for the town station (待镇确认), and the risk is still unresolved until then (``assistance.services``)."""

    class State(models.TextChoices):
        OPEN = "open", _("未消除")
        CLOSING = "closing", _("待镇确认")
        ELIMINATED = "eliminated", _("已消除")

    # Not eliminated yet: what the open and overdue lists count.
    UNRESOLVED = (State.OPEN, State.CLOSING)

    household = models.ForeignKey(
        "registry.Household", verbose_name=_("农户"), on_delete=models.PROTECT, related_name="risk_points"
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12)
    warning = models.OneToOneField(
        EarlyWarning,
        verbose_name=_("来源预警"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="risk_point",
    )
    risk_type = models.CharField(_("风险类型"), max_length=20, choices=RiskType.choices)
    channel = models.CharField(_("来源"), max_length=20, choices=Channel.choices)
    found_on = models.DateField(_("发现日期"))
    deadline = models.DateField(_("限期消除日期"))
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.OPEN)
    evidence = models.JSONField(_("证据"), default=dict, blank=True)
    description = models.CharField(_("风险说明"), max_length=500)
    eliminated_on = models.DateField(_("消除日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("风险点")
        verbose_name_plural = _("风险点")
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["region_code", "state", "deadline"], name="risk_region_state_idx")]

    def __str__(self) -> str:
        return f"风险点 {self.pk}"

    @property
    def audit_label(self) -> str:
        return f"风险点 {self.pk}"


class ScreeningRun(models.Model):
    """One run of the rules over a region (full or incremental after a batch): what it found, how long it took."""

    region_code = models.CharField(_("区划"), max_length=12)
    batch = models.ForeignKey(
        DepartmentBatch, verbose_name=_("触发批次"), null=True, blank=True, on_delete=models.SET_NULL
    )
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    new_warnings = models.PositiveIntegerField(_("新增预警"), default=0)
    per_rule = models.JSONField(_("各规则新增"), default=dict)
    seconds = models.FloatField(_("耗时（秒）"), default=0)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("筛查记录")
        verbose_name_plural = _("筛查记录")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"筛查 {self.pk}"


class DepartmentToken(models.Model):
    """A department system's credential for posting batches to the API: bound to one source and one region.
    Only a hash of the token is stored; the token is shown once when it is issued."""

    name = models.CharField(_("名称"), max_length=100)
    source = models.CharField(_("数据来源"), max_length=20, choices=Source.choices)
    region = models.ForeignKey("regions.Region", verbose_name=_("区划"), on_delete=models.PROTECT)
    token_hash = models.CharField(_("令牌哈希"), max_length=64, unique=True)
    active = models.BooleanField(_("有效"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    objects = ScopedManager()
    region_field = "region_id"

    class Meta:
        verbose_name = _("部门接口令牌")
        verbose_name_plural = _("部门接口令牌")

    def __str__(self) -> str:
        return self.name


class Clue(models.Model):
    """A clue from outside the registry's own data: a farmer's self-report (public page or filled in by a clerk),
    a cadre's finding, inspection or city feedback about someone who may not be found by ID. The town station
    links it to a household (which raises a warning) or closes it. Personal fields are encrypted."""

    class State(models.TextChoices):
        NEW = "new", _("待处理")
        LINKED = "linked", _("已关联预警")
        CLOSED = "closed", _("已办结")

    channel = models.CharField(_("来源"), max_length=20, choices=Channel.choices)
    region_code = models.CharField(_("所在村"), max_length=12)
    name = EncryptedTextField(_("姓名"))
    id_number = EncryptedTextField(_("证件号码"), blank=True)
    id_index = models.CharField(_("证件号码索引"), max_length=64, blank=True, db_index=True)
    phone = EncryptedTextField(_("联系电话"), blank=True)
    description = models.TextField(_("情况说明"))
    risk_type = models.CharField(
        _("风险类型"), max_length=20, choices=RiskType.choices, default=RiskType.OTHER
    )
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("农户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    warning = models.ForeignKey(
        EarlyWarning,
        verbose_name=_("预警"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.NEW)
    close_reason = models.CharField(_("办结说明"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("线索")
        verbose_name_plural = _("线索")
        ordering = ["-id"]
        indexes = [models.Index(fields=["region_code", "state"], name="clue_region_state_idx")]

    def __str__(self) -> str:
        return f"线索 {self.pk}"
