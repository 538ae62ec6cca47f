"""Households and members: every rural household the town watches, with the indicators the policy names.

Derived figures (家庭人口, 家庭纯收入, 年人均纯收入, 三保障 flags, the classification suggestion) are stored, computed
by ``services.households_recompute`` at write time, so that a list of 250 000 households filters and sorts on them
with an index.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangfan.core.crypto import EncryptedTextField
from fangfan.core.scoping import ScopedManager

from .choices import ExitedClass, HouseholdType, HousingGrade, MonitoringState, MonitoringType, Suggestion

MONEY = {"max_digits": 14, "decimal_places": 2}
# The household's inputs to the income formula and the 三保障 judgement, in the order of the import template;
# edit forms, the importer's comparison, the export and the recompute all read these names from here.
INCOME_FIELDS = [
    "wage_income",
    "business_income",
    "business_expense",
    "property_income",
    "transfer_income",
    "compliant_self_paid",
]
INDICATOR_FIELDS = ["food_clothing_secure", "housing_grade", "water_safe"]
# The household's official status as the national system (全国防返贫监测信息系统) records it. After the first import
# that creates a household, these change only when an approval case ends 已办结 (``workflows.services._decide``) or
# when a town-station or county user imports a workbook choosing 与国家系统同步 (``registry.importing``); any other
# import leaves them as stored and lists each difference (issue 19, point 6). 销号 is 监测状态 风险已消除 (a mark, never
# a deletion); 注销 (``cancelled``) is not a status of the national system's and no import sets it.
OFFICIAL_FIELDS = [
    "household_type",
    "exit_year",
    "exited_class",
    "monitoring_type",
    "monitoring_state",
    "identified_month",
    "eliminated_month",
]
# What the household list filters on besides its sort key (``filters.CHOICE_FILTERS`` and the jurisdiction's region):
# each index that gives a county's list in one order holds these as key columns, so a filter that matches few
# households is checked in the index, never row by row in the table.
LIST_FILTERED = [
    "region",
    "household_type",
    "exited_class",
    "monitoring_type",
    "monitoring_state",
    "suggestion",
]


class Household(models.Model):
    """A rural household (户) as the national system records it: type, exited-household class, monitoring-object
    type and monitoring state are separate fields (DOMAIN.md §1)."""

    number = models.CharField(_("户编号"), max_length=40, unique=True)
    # Its own index is the narrowest led by the region: PostgreSQL reads a town from it and sorts by 户编号
    # incrementally (town page 200: 7.7 ms; without it a bitmap scan and a full sort, 16 ms). Nothing matches the
    # code with LIKE: migration 0011 drops PostgreSQL's ``varchar_pattern_ops`` twin.
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="households"
    )
    household_type = models.CharField(_("户类型"), max_length=10, choices=HouseholdType.choices)
    exit_year = models.PositiveSmallIntegerField(_("脱贫年度"), null=True, blank=True)
    exited_class = models.CharField(_("脱贫户分类"), max_length=20, choices=ExitedClass.choices, blank=True)
    monitoring_type = models.CharField(
        _("监测对象类型"), max_length=20, choices=MonitoringType.choices, blank=True
    )
    monitoring_state = models.CharField(
        _("监测状态"), max_length=20, choices=MonitoringState.choices, blank=True
    )
    identified_month = models.CharField(_("识别监测时间"), max_length=6, blank=True)
    eliminated_month = models.CharField(_("风险消除时间"), max_length=6, blank=True)
    grade = models.CharField(_("分类定级"), max_length=30, blank=True)
    phone = EncryptedTextField(_("联系电话"), blank=True)

    wage_income = models.DecimalField(_("工资性收入"), default=0, **MONEY)
    business_income = models.DecimalField(_("生产经营性收入"), default=0, **MONEY)
    business_expense = models.DecimalField(_("生产经营性支出"), default=0, **MONEY)
    property_income = models.DecimalField(_("财产性收入"), default=0, **MONEY)
    transfer_income = models.DecimalField(_("转移性收入"), default=0, **MONEY)
    compliant_self_paid = models.DecimalField(_("合规自付支出"), default=0, **MONEY)

    food_clothing_secure = models.BooleanField(_("吃穿不愁"), null=True, blank=True)
    housing_grade = models.CharField(
        _("住房安全等级"), max_length=1, choices=HousingGrade.choices, blank=True
    )
    water_safe = models.BooleanField(_("饮水安全"), null=True, blank=True)

    # Derived at write time (services.households_recompute).
    size = models.PositiveSmallIntegerField(_("家庭人口"), default=0)
    net_income = models.DecimalField(_("家庭纯收入"), default=0, **MONEY)
    per_capita_income = models.DecimalField(_("年人均纯收入"), null=True, blank=True, **MONEY)
    education_secure = models.BooleanField(_("义务教育有保障"), null=True, blank=True)
    medical_secure = models.BooleanField(_("基本医疗有保障"), null=True, blank=True)
    has_labour = models.BooleanField(_("有劳动能力"), default=True)
    head_name = models.CharField(_("户主姓名"), max_length=50, blank=True)
    head_initials = models.CharField(_("户主拼音首字母"), max_length=20, blank=True)
    suggestion = models.CharField(_("系统建议分类"), max_length=20, choices=Suggestion.choices, blank=True)
    suggestion_reason = models.CharField(_("建议理由"), max_length=300, blank=True)

    cancelled = models.BooleanField(_("已注销"), default=False)
    cancelled_reason = models.CharField(_("注销原因"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedManager()
    region_field = "region_id"

    class Meta:
        verbose_name = _("农户")
        verbose_name_plural = _("农户")
        # Composite indexes led by the region code: the list filters by a code range, then sorts or counts.
        indexes = [
            models.Index(fields=["region", "suggestion"], name="hh_region_suggest_idx"),
            models.Index(fields=["region", "per_capita_income"], name="hh_region_income_idx"),
            models.Index(fields=["region", "number"], name="hh_region_number_idx"),
            # Covering, led by the region code and the filtered columns: SQLite's planner always takes the region
            # range, so only an index that holds every listed column avoids reading each row of a town
            # (benchmarks/list_query.py: town dashboard 33 → 8 ms, sorted page 1 6.5 → 2.7 ms).
            models.Index(
                fields=[*LIST_FILTERED, "cancelled", "size", "per_capita_income", "number", "head_name"],
                name="hh_region_cover_idx",
            ),
            # Income order for sorts over a county or more (page 200: 254 → 11 ms on PostgreSQL; on SQLite the
            # list steers its planner here, see ``filters.household_list``). It holds every column the list
            # filters on, so a filter that matches few households is checked in the index, never in the table.
            models.Index(
                fields=["cancelled", "per_capita_income", "id", *LIST_FILTERED],
                name="hh_income_cover_idx",
            ),
            # A monitoring-object type over a county or more, in income order: the type is an equality and rare
            # (突发严重困难户 ≈ 0.7 % of households), so the rows are read straight from here, never hunted for along
            # the income index (county page 1 sorted by income descending: 7–10 → 0.1 ms). It replaced (region,
            # monitoring_type), which the region-led covering index above already serves. On PostgreSQL migration
            # 0009 declares its income column DESC NULLS LAST (the descending list's order).
            models.Index(
                fields=[
                    "monitoring_type",
                    "cancelled",
                    "per_capita_income",
                    "id",
                    *[f for f in LIST_FILTERED if f != "monitoring_type"],
                ],
                name="hh_montype_income_idx",
            ),
            # 家庭人口 (size) order over a county or more, built like the income index (page 1 sorted by size: 24 ms on
            # SQLite and 67 ms on PostgreSQL without it, the whole county sorted). Size is never NULL, so read
            # backwards it serves the descending sort too.
            models.Index(
                fields=["cancelled", "size", "id", *LIST_FILTERED],
                name="hh_size_cover_idx",
            ),
            # The households that must have a 帮扶责任人/联系人 (``filters.needs_helper_q``, a test keeps the two
            # equal), ≈ 15 % of a town, in list order: a town's 未落实 count and page read this index alone and
            # anti-join the few assignments (PostgreSQL: 12 → 1.3 ms; the region index read 16 000 rows).
            models.Index(
                fields=["region", "number", "id"],
                name="hh_needs_helper_idx",
                condition=models.Q(cancelled=False)
                & (
                    models.Q(household_type=HouseholdType.EXITED)
                    | (~models.Q(monitoring_type="") & ~models.Q(monitoring_state=MonitoringState.ELIMINATED))
                ),
            ),
            # The monitoring objects (≈ 5 % of households) in ledger order, with every column the 监测对象台账 and
            # 边缘易致贫户台账 list: a place's page, count and export read the index alone, filters checked in it (a
            # town's page of 50 read and sorted the town's 16 000 households by a CASE, 57 ms; a county's export
            # fetched 11 000 wide rows one by one from the table, 0.7 s).
            models.Index(
                fields=[
                    "region",
                    "number",
                    "monitoring_type",
                    "monitoring_state",
                    "identified_month",
                    "cancelled",
                    "head_name",
                    "size",
                    "per_capita_income",
                    "eliminated_month",
                    # PostgreSQL's index holds no row id of its own: without ``id`` a county's 监测对象台账 read
                    # every row from the table (SQLite's index carries the rowid anyway)
                    "id",
                ],
                name="hh_monitored_idx",
                condition=models.Q(cancelled=False) & ~models.Q(monitoring_type=""),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def audit_label(self) -> str:
        return f"户 {self.number}"

    @property
    def region_code(self) -> str:
        return self.region_id


class Member(models.Model):
    """A household member. The ID number is stored encrypted with a blind index (one person, one row, in the
    whole system); birth date and sex are derived from it. A member who leaves keeps the row (status 已减少)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("在册")
        REMOVED = "removed", _("已减少")

    # No index of its own: ``member_household_idx`` (household, status, …) serves every lookup by household.
    household = models.ForeignKey(
        Household,
        verbose_name=_("所属农户"),
        on_delete=models.PROTECT,
        related_name="members",
        db_index=False,
    )
    # The household's village, kept equal to ``household.region`` by database triggers (migration 0010) for every
    # writer: the name and initials indexes hold it, so a search counts a town's or county's matches from the index
    # alone, without looking up each match's household. Bulk writers may give it; left empty, a trigger fills it.
    household_region = models.CharField(
        _("所属村（社区）代码"), max_length=12, default="", db_default="", editable=False
    )
    name = models.CharField(_("姓名"), max_length=50)
    name_initials = models.CharField(_("拼音首字母"), max_length=20, blank=True)
    id_number = EncryptedTextField(_("证件号码"))
    # Unique through ``member_id_index_unique`` (a unique *index*, not a column constraint: a bulk load into an
    # empty registry can drop it and build it again afterwards, see ``bulkdb.indexes_deferred``).
    id_index = models.CharField(_("证件号码索引"), max_length=64)
    id_masked = models.CharField(_("证件号码（脱敏）"), max_length=24)
    id_last4 = models.CharField(_("证件号码后四位"), max_length=4)  # indexed by ``member_last4_idx``
    birth_date = models.DateField(_("出生日期"))
    sex = models.CharField(_("性别"), max_length=1)
    relation = models.CharField(_("与户主关系"), max_length=10)
    is_head = models.BooleanField(_("是否户主"), default=False)
    education = models.CharField(_("文化程度"), max_length=20, blank=True)
    school_status = models.CharField(_("在校生状况"), max_length=20, blank=True)
    not_in_school_reason = models.CharField(_("义务教育阶段未上学原因"), max_length=100, blank=True)
    health = models.CharField(_("健康状况"), max_length=50, blank=True)
    serious_illness = models.BooleanField(_("患有大病"), default=False)
    chronic_illness = models.BooleanField(_("长期慢性病"), default=False)
    disabled = models.BooleanField(_("残疾"), default=False)
    disability_category = models.CharField(_("残疾类别"), max_length=10, blank=True)
    disability_grade = models.CharField(_("残疾等级"), max_length=10, blank=True)
    labour_skill = models.CharField(_("劳动技能"), max_length=20, blank=True)
    migrant_months = models.PositiveSmallIntegerField(_("务工时间（月）"), null=True, blank=True)
    migrant_place = models.CharField(_("务工地"), max_length=100, blank=True)
    resident_medical = models.BooleanField(_("参加城乡居民基本医疗保险"), null=True, blank=True)
    employee_medical = models.BooleanField(_("参加职工基本医疗保险"), null=True, blank=True)
    resident_pension = models.BooleanField(_("参加城乡居民基本养老保险"), null=True, blank=True)
    dibao = models.BooleanField(_("享受低保"), null=True, blank=True)
    tekun = models.BooleanField(_("特困供养"), null=True, blank=True)
    phone = EncryptedTextField(_("联系电话"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    joined_reason = models.CharField(_("增加原因"), max_length=20, blank=True)
    joined_date = models.DateField(_("增加日期"), null=True, blank=True)
    left_reason = models.CharField(_("减少原因"), max_length=20, blank=True)
    left_date = models.DateField(_("减少日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedManager()
    region_field = "household__region_id"

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(is_head=True, status="active"),
                name="one_head_per_household",
            ),
            models.UniqueConstraint(
                models.F("id_index"),
                name="member_id_index_unique",
                violation_error_message=_("该证件号码已登记在系统中"),
            ),
        ]
        indexes = [
            # Every lookup by household, and the probe of a broad search over a county (``filters.probes``: households
            # in list order, each asked whether an active member's initials or name match): with the initials and
            # the name in the index the probe never reads the member row (PostgreSQL county "wj" page 1: 5.8 →
            # 3.9–4.4 ms in benchmarks/list_query.py, 8 600 → 6 300 pages read; migration 0013).
            models.Index(
                fields=["household", "status", "name_initials", "name"], name="member_household_idx"
            ),
            # Equality only (the last four characters of an ID): a named index, so PostgreSQL does not add the
            # ``varchar_pattern_ops`` twin that ``db_index=True`` brings (one index less to keep per member).
            models.Index(fields=["id_last4"], name="member_last4_idx"),
            models.Index(
                fields=["name", "status", "household_region", "household"], name="member_name_cover_idx"
            ),
            models.Index(
                fields=["name_initials", "status", "household_region", "household"],
                name="member_initials_cover_idx",
            ),
            # The heads' masked ID numbers by household, from the index alone: the ledgers' 证件号码 column (a
            # county's 监测对象台账 read each head's row from the table, a third of the time its rows took).
            # (A condition on ``is_head`` alone: SQLite uses a partial index only when the query repeats its
            # condition, and Django passes ``status = 'active'`` as a bound parameter, which never matches.)
            models.Index(
                fields=["household", "status", "id_masked"],
                condition=models.Q(is_head=True),
                name="member_head_masked_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_label(self) -> str:
        return f"成员 {self.id_masked}"

    @property
    def region_code(self) -> str:
        return self.household.region_id


class CompositionChange(models.Model):
    """A change of household composition as the national system records it: a member added (birth, marriage-in),
    removed (death, marriage-out, moving away), a new head, a split or a merge. The member's history stays."""

    class Kind(models.TextChoices):
        ADD = "add", _("增加成员")
        REMOVE = "remove", _("减少成员")
        HEAD = "head", _("变更户主")
        SPLIT = "split", _("分户")
        MERGE = "merge", _("合户")
        MOVE = "move", _("成员转户")

    kind = models.CharField(_("变更类型"), max_length=10, choices=Kind.choices)
    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="changes"
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("成员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
    )
    other_household = models.ForeignKey(
        Household,
        verbose_name=_("相关农户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("原因"), max_length=50, blank=True)
    date = models.DateField(_("变更日期"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = ScopedManager()
    region_field = "household__region_id"

    class Meta:
        verbose_name = _("家庭成员变更")
        verbose_name_plural = _("家庭成员变更")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


class HouseholdSnapshot(models.Model):
    """Income and 三保障 status at a moment that matters (identification, elimination, a yearly check), so that a
    later comparison ("income fell sharply against the last snapshot") has something to compare with."""

    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="snapshots"
    )
    taken_on = models.DateField(_("日期"))
    reason = models.CharField(_("原因"), max_length=30)
    size = models.PositiveSmallIntegerField(_("家庭人口"))
    net_income = models.DecimalField(_("家庭纯收入"), **MONEY)
    per_capita_income = models.DecimalField(_("年人均纯收入"), null=True, **MONEY)
    data = models.JSONField(_("明细"), default=dict)

    objects = ScopedManager()
    region_field = "household__region_id"

    class Meta:
        verbose_name = _("农户快照")
        verbose_name_plural = _("农户快照")
        indexes = [models.Index(fields=["household", "-taken_on"], name="snapshot_household_idx")]

    def __str__(self) -> str:
        return f"{self.taken_on} {self.reason}"


# The columns a household is counted by (dashboard, list totals); the triggers of migration 0004 keep
# ``HouseholdCount`` in step with them on every write.
COUNT_KEYS = [
    "household_type",
    "exited_class",
    "monitoring_type",
    "monitoring_state",
    "suggestion",
    "cancelled",
]


class _CountRow(models.Model):
    """A village and one combination of the counted columns, with how many households and people it holds."""

    region_code = models.CharField(_("村（社区）代码"), max_length=12)
    household_type = models.CharField(_("户类型"), max_length=10, choices=HouseholdType.choices)
    exited_class = models.CharField(_("脱贫户分类"), max_length=20, blank=True)
    monitoring_type = models.CharField(_("监测对象类型"), max_length=20, blank=True)
    monitoring_state = models.CharField(_("监测状态"), max_length=20, blank=True)
    suggestion = models.CharField(_("系统建议分类"), max_length=20, blank=True)
    cancelled = models.BooleanField(_("已注销"), default=False)
    households = models.IntegerField(_("户数"), default=0)
    people = models.IntegerField(_("人数"), default=0)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        abstract = True


class HouseholdCount(_CountRow):
    """How many households (and people, 家庭人口 summed) a village holds per type, class, monitoring-object type and
    state, suggestion and cancellation: the dashboard and the list's totals read this instead of counting a
    county's 250 000 households.

    Written by database triggers on ``registry_household`` (migration 0004), never by Python: every writer — the
    services, the importer's bulk path, the recompute, the demo, raw SQL — keeps it exact in its own transaction.
    On SQLite the triggers add to these rows directly; on PostgreSQL they append to ``HouseholdCountDelta`` (no row
    locks shared between writers) and readers add both (``registry.counts``)."""

    class Meta:
        verbose_name = _("农户分类计数")
        verbose_name_plural = _("农户分类计数")
        constraints = [
            models.UniqueConstraint(fields=["region_code", *COUNT_KEYS], name="household_count_key"),
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.households}"


class HouseholdCountDelta(_CountRow):
    """Changes to ``HouseholdCount`` not yet folded into it (PostgreSQL only): appended by the triggers, summed by
    readers together with ``HouseholdCount``, folded into it by ``registry.counts.fold_counts``."""

    class Meta:
        verbose_name = _("农户分类计数变动")
        verbose_name_plural = _("农户分类计数变动")
        indexes = [models.Index(fields=["region_code"], name="household_count_delta_idx")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.households:+d}"


class HelperAssignment(models.Model):
    """Who looks after a household: its 帮扶责任人 (every exited household always has one, plan 四(一)3) or 联系人
    (village cadres and work teams for marginal households, contacted monthly, plan 四(二)2). One at a time per
    household; a replaced or released assignment is kept, with the date and the reason, so the household's
    history shows who was responsible when."""

    class EndReason(models.TextChoices):
        JOB_CHANGE = "job_change", _("岗位变动")
        POOR_HELP = "poor_help", _("帮扶不力")
        REBALANCE = "rebalance", _("调整联系户")
        NOT_NEEDED = "not_needed", _("不再需要帮扶")
        CANCELLED = "cancelled", _("农户已注销")

    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="helper_assignments"
    )
    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("帮扶责任人/联系人"),
        on_delete=models.PROTECT,
        related_name="helped_households",
    )
    started_on = models.DateField(_("起始日期"))
    ended_on = models.DateField(_("终止日期"), null=True, blank=True)
    end_reason = models.CharField(_("终止原因"), max_length=20, choices=EndReason.choices, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = ScopedManager()
    region_field = "household__region_id"

    class Meta:
        verbose_name = _("帮扶责任人指定")
        verbose_name_plural = _("帮扶责任人指定")
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(ended_on__isnull=True),
                name="one_current_helper_per_household",
            ),
        ]
        indexes = [
            # "My households" and each helper's count: the current assignments of one helper.
            models.Index(fields=["helper", "ended_on", "household"], name="helper_current_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.helper} {self.started_on}"


class HouseholdMonth(models.Model):
    """A household's figures as they stood in one month (plan M5: 信息变化… 及时更新): income items, the 三保障 and
    water indicators, the suggestion and the official status. Written for every household once a month by
    ``history.history_snapshot`` (``fangfan snapshot``, also after the nightly screening); the trend rule (收入大幅
    缩减) compares the household with its previous month, the household page draws its income over the months, and
    the monthly report counts from here. A month's row is the state at its last snapshot in that month."""

    # No foreign-key constraint and no index of its own: the rows are copied from the households in one statement
    # (so every one exists) and households are never deleted (a cancellation is a mark); PostgreSQL's per-row FK
    # check was most of a county's snapshot (docs/benchmarks.md). The unique (household, month) serves lookups.
    household = models.ForeignKey(
        Household,
        verbose_name=_("农户"),
        on_delete=models.PROTECT,
        related_name="months",
        db_index=False,
        db_constraint=False,
    )
    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    # The household's village when the month was taken: the jurisdiction of the row (a range on the code).
    region_code = models.CharField(_("行政区划代码"), max_length=12)
    household_type = models.CharField(_("户类型"), max_length=10, choices=HouseholdType.choices)
    exited_class = models.CharField(_("脱贫户分类"), max_length=20, choices=ExitedClass.choices, blank=True)
    monitoring_type = models.CharField(
        _("监测对象类型"), max_length=20, choices=MonitoringType.choices, blank=True
    )
    monitoring_state = models.CharField(
        _("监测状态"), max_length=20, choices=MonitoringState.choices, blank=True
    )
    suggestion = models.CharField(_("系统建议分类"), max_length=20, choices=Suggestion.choices, blank=True)
    size = models.PositiveSmallIntegerField(_("家庭人口"), default=0)
    wage_income = models.DecimalField(_("工资性收入"), default=0, **MONEY)
    business_income = models.DecimalField(_("生产经营性收入"), default=0, **MONEY)
    business_expense = models.DecimalField(_("生产经营性支出"), default=0, **MONEY)
    property_income = models.DecimalField(_("财产性收入"), default=0, **MONEY)
    transfer_income = models.DecimalField(_("转移性收入"), default=0, **MONEY)
    compliant_self_paid = models.DecimalField(_("合规自付支出"), default=0, **MONEY)
    net_income = models.DecimalField(_("家庭纯收入"), default=0, **MONEY)
    per_capita_income = models.DecimalField(_("年人均纯收入"), null=True, blank=True, **MONEY)
    food_clothing_secure = models.BooleanField(_("吃穿不愁"), null=True, blank=True)
    housing_grade = models.CharField(
        _("住房安全等级"), max_length=1, choices=HousingGrade.choices, blank=True
    )
    water_safe = models.BooleanField(_("饮水安全"), null=True, blank=True)
    education_secure = models.BooleanField(_("义务教育有保障"), null=True, blank=True)
    medical_secure = models.BooleanField(_("基本医疗有保障"), null=True, blank=True)
    has_labour = models.BooleanField(_("有劳动能力"), default=True)
    # A past month filled in later holds the figures as they were when it was filled, not as they were then.
    backfilled = models.BooleanField(_("事后补记"), default=False)
    taken_at = models.DateTimeField(_("记录时间"))

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("农户月度记录")
        verbose_name_plural = _("农户月度记录")
        constraints = [
            models.UniqueConstraint(fields=["household", "month"], name="household_month_unique"),
        ]
        # The monthly report counts one month of a region: led by the month, then the code range.
        indexes = [
            models.Index(
                fields=["month", "region_code", "monitoring_type", "monitoring_state", "household_type"],
                name="hhmonth_month_region_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.month:%Y-%m}"
