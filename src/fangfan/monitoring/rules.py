"""The screening rules, as data: each has a code, a name, a national risk type (DOMAIN.md §4), a kind (poverty risk
or data doubt 疑点), the department source whose data it reads ("" for rules over the registry itself), the policy
parameters it reads (``policy/parameters.py``) and a Chinese explanation template that cites the evidence.

This module is the catalogue; the SQL building blocks and the statement around a rule are in ``rule_sql``.
Each rule also knows how to write itself as ONE SQL statement::

    INSERT INTO screening_new (...)              -- the run's temporary table of new warnings (STAGED)
    SELECT ... FROM (<the rule's candidates, at most one per household>) c
    WHERE NOT EXISTS (<the same evidence, or an open warning of the rule, or an open risk point of its type>)

The screening then writes the staged rows to ``monitoring_earlywarning`` in one more statement, each already
attached to its household's verification task (``services.warnings_insert_bundled``): every warning is written
once, and the warnings table does not change while the rules read it.

portable between SQLite (≥ 3.25: window functions, ``json_object``) and PostgreSQL: string concatenation with
``||``, integer arithmetic on ``CAST(... AS BIGINT)``, numbers rendered as text by :func:`yuan` (no
``printf``/``to_char``), dates as ``CAST(d AS TEXT)`` (ISO on both). The only dialect differences are collected in
:class:`Dialect` (the JSON constructor, reading a key of a JSON column, the type of a NULL timestamp).
The explanation is built in SQL from the rule's template, so no per-household Python loop is needed.

Channel and source of what the rules raise (a decision, kept in one place):

* every rule raises warnings with channel ``Channel.DEPARTMENT`` (部门筛查预警 — the national channel for data
  comparison, whichever data it compares);
* a rule over a department's data sets ``source`` to that department (``medical``, ``civil`` …), so that the
  department sees the hits from its own data (``EarlyWarning.narrow_for_user``);
* a rule over the registry itself sets ``source = ""``, read as 系统筛查 (the system's own comparison of the
  registry's figures); departments never see those.

Dedupe (``EarlyWarning.dedupe_key``): the key names the *evidence*, so that re-screening the same state raises
nothing new, and a warning that was excluded (已排除) is not raised again for the same evidence:

* department rules: the content of the department row — member, date and the value the rule read (so a department
  that sends the same file twice does not raise twice); ``record`` points at the row;
* registry rules: the screening year and the figure or member the rule saw (e.g. ``"2026:4800"`` for a per-capita
  income of 4 800 元) — a new year, or new figures, are new evidence.

Besides the two database constraints (same evidence once; one open warning per household and rule), a candidate is
skipped when the household already has an open risk point of the rule's risk type, and a department row is skipped
when a warning of the same rule on the same household was open at or after the time the row arrived (that visit
has already seen the situation the row describes: M14, no household visited twice for the same thing).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from fangfan.registry.choices import WITH_LABOUR

from .choices import RiskType, Source
from .rule_sql import (
    ACTIVE,
    DOUBT,
    GENERAL_LABEL,
    IN_SCHOOL,
    MEMBER_JOIN,
    MONITORED_LABEL,
    REGISTRY,
    RISK,
    Context,
    RuleSpec,
    Sql,
    as_text,
    candidates,
    in_list,
    is_monitored,
    lit,
    member_from,
    member_name,
    num,
    percent,
    percent_text,
    record_candidates,
    render,
    yuan,
    yuan_text,
)


def _income_below_line(ctx: Context, rule: RuleSpec) -> str:
    line = ctx.values["monitoring_line"]
    return candidates(
        ctx,
        key=f"{lit(str(ctx.year) + ':')} || {yuan('h.per_capita_income')}",
        explanation=render(
            rule.template,
            income=Sql(yuan("h.per_capita_income")),
            line=yuan_text(line),
            size=Sql(as_text("h.size")),
        ),
        evidence=ctx.dialect.json(per_capita_income="h.per_capita_income", line=num(line), size="h.size"),
        from_="registry_household h",
        where=(
            f"h.per_capita_income IS NOT NULL AND h.size > 0 AND h.per_capita_income < {num(line)} "
            "AND h.monitoring_state <> 'monitoring'"
        ),
    )


def _sudden_expense(ctx: Context, rule: RuleSpec) -> str:
    line, ratio = ctx.values["monitoring_line"], ctx.values["sudden_hardship_ratio"]
    share = f"CASE WHEN h.net_income > 0 THEN {percent('h.compliant_self_paid', 'h.net_income')} || '%%' ELSE '—' END"
    return candidates(
        ctx,
        key=f"{lit(str(ctx.year) + ':')} || {yuan('h.compliant_self_paid')} || '/' || {yuan('h.net_income')}",
        explanation=render(
            rule.template,
            paid=Sql(yuan("h.compliant_self_paid")),
            net=Sql(yuan("h.net_income")),
            share=Sql(share),
            ratio=percent_text(ratio),
        ),
        evidence=ctx.dialect.json(
            compliant_self_paid="h.compliant_self_paid", net_income="h.net_income", ratio=num(ratio)
        ),
        from_="registry_household h",
        where=(
            f"h.per_capita_income IS NOT NULL AND h.size > 0 AND +h.per_capita_income >= {num(line)} "
            "AND h.monitoring_state <> 'monitoring' AND h.compliant_self_paid > 0 "
            f"AND (h.net_income <= 0 OR h.compliant_self_paid >= {num(ratio)} * h.net_income)"
        ),
    )


def previous_month(today: date) -> date:
    """The first day of the month before ``today``'s."""
    first = today.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def _sudden_income_drop(ctx: Context, rule: RuleSpec) -> str:
    line, ratio = ctx.values["monitoring_line"], ctx.values["sudden_income_drop_ratio"]
    # Against the household's row of the previous month in the monthly history (registry.history): read by the
    # month-led index, then the household by its key. A step down between two months is what a visit or an import
    # that lowers the income makes; the month after, the base is the lowered figure and nothing is raised again.
    month = lit(previous_month(ctx.today).isoformat())
    return candidates(
        ctx,
        key=f"'m' || {as_text('s.id')} || ':' || {yuan('h.per_capita_income')}",
        explanation=render(
            rule.template,
            date=Sql(f"SUBSTR({as_text('s.month')}, 1, 7)"),
            before=Sql(yuan("s.per_capita_income")),
            now=Sql(yuan("h.per_capita_income")),
            share=Sql(
                percent("s.per_capita_income - h.per_capita_income", "s.per_capita_income") + " || '%%'"
            ),
            ratio=percent_text(ratio),
        ),
        evidence=ctx.dialect.json(
            month_record="s.id",
            previous="s.per_capita_income",
            per_capita_income="h.per_capita_income",
            ratio=num(ratio),
        ),
        # CROSS JOIN: SQLite keeps the written order (the month's rows first); PostgreSQL plans it as an inner join.
        from_="registry_householdmonth s CROSS JOIN registry_household h",
        where=(
            f"s.month = {month} AND h.id = s.household_id AND s.per_capita_income > 0 "
            "AND h.per_capita_income IS NOT NULL AND h.size > 0 "
            f"AND +h.per_capita_income >= {num(line)} AND h.monitoring_state <> 'monitoring' "
            f"AND s.per_capita_income - h.per_capita_income >= {num(ratio)} * s.per_capita_income"
        ),
    )


def _member_rule(where: str, *, extra: dict | None = None) -> Callable[[Context, RuleSpec], str]:
    """A registry rule about one active member (the first such member of the household is cited)."""

    def build(ctx: Context, rule: RuleSpec) -> str:
        return candidates(
            ctx,
            key=f"{lit(str(ctx.year) + ':m')} || {as_text('m.id')}",
            explanation=render(rule.template, member=Sql(member_name()), **(extra or {})),
            evidence=ctx.dialect.json(member="m.id"),
            from_=member_from(ctx),
            where=f"{MEMBER_JOIN} AND {ACTIVE} AND {where(ctx) if callable(where) else where}",
            tiebreak="-m.id",
        )

    return build


def _school_age(ctx: Context) -> str:
    after, on_or_before = ctx.born_between()
    return f"m.birth_date > {lit(after.isoformat())} AND m.birth_date <= {lit(on_or_before.isoformat())}"


def _out_of_school(ctx: Context) -> str:
    return (
        f"{_school_age(ctx)} AND m.school_status <> '' AND m.school_status NOT IN {in_list(IN_SCHOOL)} "
        "AND m.not_in_school_reason = ''"
    )


def _school_status_missing(ctx: Context) -> str:
    return f"{_school_age(ctx)} AND m.school_status = '' AND m.not_in_school_reason = ''"


def _household_rule(
    where: str | Callable[[Context], str], key: str, **fields: str
) -> Callable[[Context, RuleSpec], str]:
    """A registry rule about the household's own indicators."""

    def build(ctx: Context, rule: RuleSpec) -> str:
        return candidates(
            ctx,
            key=f"{lit(str(ctx.year) + ':')} || {key}",
            explanation=render(rule.template, **{k: Sql(v) for k, v in fields.items()}),
            evidence=ctx.dialect.json(**{k: v for k, v in fields.items()}),
            from_="registry_household h",
            where=where(ctx) if callable(where) else where,
        )

    return build


def _months(expr: str) -> str:
    """A YYYYMM text as a month number (year × 12 + month), for differences."""
    return f"(CAST(SUBSTR({expr}, 1, 4) AS INTEGER) * 12 + CAST(SUBSTR({expr}, 5, 2) AS INTEGER))"


def _eliminated_too_soon(ctx: Context, rule: RuleSpec) -> str:
    months = f"({_months('h.eliminated_month')} - {_months('h.identified_month')})"
    return candidates(
        ctx,
        key="h.identified_month || '-' || h.eliminated_month",
        explanation=render(
            rule.template,
            identified=Sql("h.identified_month"),
            eliminated=Sql("h.eliminated_month"),
            months=Sql(as_text(months)),
        ),
        evidence=ctx.dialect.json(
            identified_month="h.identified_month", eliminated_month="h.eliminated_month"
        ),
        from_="registry_household h",
        where=(
            "h.monitoring_state = 'eliminated' AND LENGTH(h.identified_month) = 6 "
            f"AND LENGTH(h.eliminated_month) = 6 AND {months} < {ELIMINATION_MIN_MONTHS}"
        ),
    )


ELIMINATION_MIN_MONTHS = 6  # DOMAIN.md §5: at least 6 months monitored before elimination


def _eliminated_below_line(ctx: Context, rule: RuleSpec) -> str:
    line = ctx.values["monitoring_line"]
    return candidates(
        ctx,
        key=f"{lit(str(ctx.year) + ':')} || {yuan('h.per_capita_income')}",
        explanation=render(rule.template, income=Sql(yuan("h.per_capita_income")), line=yuan_text(line)),
        evidence=ctx.dialect.json(per_capita_income="h.per_capita_income", line=num(line)),
        from_="registry_household h",
        where=(
            "h.monitoring_state = 'eliminated' AND h.per_capita_income IS NOT NULL AND h.size > 0 "
            f"AND h.per_capita_income < {num(line)}"
        ),
    )


# Department rules ------------------------------------------------------------------------------------------------


def _medical(ctx: Context, rule: RuleSpec) -> str:
    high, low = ctx.values["medical_self_paid_general"], ctx.values["medical_self_paid_monitored"]
    threshold = f"CASE WHEN {is_monitored()} THEN {num(low)} ELSE {num(high)} END"
    return record_candidates(
        ctx,
        Source.MEDICAL,
        key_value=yuan("r.amount"),
        explanation=render(
            rule.template,
            member=Sql(member_name()),
            date=Sql(as_text("r.event_date")),
            amount=Sql(yuan("r.amount")),
            label=Sql(
                f"CASE WHEN {is_monitored()} THEN {lit(MONITORED_LABEL)} ELSE {lit(GENERAL_LABEL)} END"
            ),
            threshold=Sql(
                f"CASE WHEN {is_monitored()} THEN {lit(yuan_text(low))} ELSE {lit(yuan_text(high))} END"
            ),
        ),
        evidence={"amount": "r.amount", "threshold": threshold},
        # The lower of the two thresholds first, on the row alone: the database keeps only the large payments
        # (≈ 15 %) before it looks up their members and households (PostgreSQL hashed all 827 000 members).
        where=f"r.amount > {num(min(low, high))} AND r.amount > {threshold}",
        prio="r.amount",
    )


def _simple_record_rule(
    source: str, where: str, *, key_value: str, active: bool = True, **fields: str
) -> Callable[[Context, RuleSpec], str]:
    def build(ctx: Context, rule: RuleSpec) -> str:
        return record_candidates(
            ctx,
            source,
            key_value=key_value,
            explanation=render(
                rule.template,
                member=Sql(member_name()),
                date=Sql(as_text("r.event_date")),
                **{k: Sql(v(ctx) if callable(v) else v) for k, v in fields.items()},
            ),
            evidence={"kind": "r.kind", "status": "r.status", "grade": "r.grade"},
            where=where,
            active=active,
        )

    return build


def _disaster_loss(ctx: Context) -> str:
    return f"CASE WHEN r.amount IS NULL THEN '' ELSE '，损失 ' || {yuan('r.amount')} || ' 元' END"


def _exclusion_note(ctx: Context) -> str:
    note = ctx.dialect.json_text("r.data", "说明")
    return f"CASE WHEN COALESCE({note}, '') = '' THEN '' ELSE '（' || {note} || '）' END"


_CATALOGUE: list[RuleSpec] = [
    # -- income and sudden hardship (registry) --
    RuleSpec(
        "income_below_line",
        "年人均纯收入低于监测收入标准",
        RiskType.INCOME,
        RISK,
        REGISTRY,
        ("monitoring_line",),
        "年人均纯收入 {income} 元（家庭人口 {size} 人），低于监测收入标准 {line} 元",
        _income_below_line,
        one_per_household=True,
    ),
    RuleSpec(
        "sudden_heavy_expense",
        "突发严重困难：刚性支出较大",
        RiskType.SUDDEN,
        RISK,
        REGISTRY,
        ("monitoring_line", "sudden_hardship_ratio"),
        "合规自付支出 {paid} 元，家庭纯收入 {net} 元，自付占比 {share}，达到 {ratio} 以上（刚性支出较大）",
        _sudden_expense,
        one_per_household=True,
    ),
    RuleSpec(
        "sudden_income_drop",
        "突发严重困难：收入大幅缩减",
        RiskType.SUDDEN,
        RISK,
        REGISTRY,
        ("monitoring_line", "sudden_income_drop_ratio"),
        "年人均纯收入由 {date} 月的 {before} 元降至 {now} 元，下降 {share}，达到 {ratio} 以上（收入大幅缩减）",
        _sudden_income_drop,
        one_per_household=True,
    ),
    # -- 因病 --
    RuleSpec(
        "illness_serious",
        "因病：家庭成员患有大病",
        RiskType.ILLNESS,
        RISK,
        REGISTRY,
        (),
        "家庭成员 {member} 患有大病",
        _member_rule("m.serious_illness"),
        reads_members=True,
    ),
    RuleSpec(
        "medical_self_paid",
        "因病：医保个人自付超过预警线",
        RiskType.ILLNESS,
        RISK,
        Source.MEDICAL,
        ("medical_self_paid_monitored", "medical_self_paid_general"),
        "医保结算：{member} {date} 个人自付 {amount} 元，超过{label}预警线 {threshold} 元",
        _medical,
    ),
    RuleSpec(
        "medical_uninsured",
        "家庭成员未参加基本医疗保险",
        RiskType.OTHER,
        RISK,
        REGISTRY,
        (),
        "家庭成员 {member} 未参加基本医疗保险（城乡居民医保、职工医保均未参加）",
        _member_rule("NOT m.resident_medical AND (m.employee_medical IS NULL OR NOT m.employee_medical)"),
        reads_members=True,
    ),
    # -- 因残 --
    RuleSpec(
        "disability_certificate",
        "因残：残联新办残疾人证",
        RiskType.DISABILITY,
        RISK,
        Source.DISABILITY,
        (),
        "残联：{member} {date} 办理残疾人证（{category}{grade}），档案中未登记该残疾等级",
        _simple_record_rule(
            Source.DISABILITY,
            "NOT (m.disabled AND m.disability_grade = r.grade)",
            key_value="r.grade",
            category="r.kind",
            grade="r.grade",
        ),
    ),
    # -- 因学 --
    RuleSpec(
        "schooling_out_of_school",
        "因学：义务教育阶段成员未在校",
        RiskType.SCHOOLING,
        RISK,
        REGISTRY,
        ("school_age_min", "school_age_max"),
        "义务教育阶段成员 {member} 在校生状况为“{status}”，且未登记未上学原因",
        _member_rule(_out_of_school, extra={"status": Sql("m.school_status")}),
        reads_members=True,
    ),
    RuleSpec(
        "education_dropout",
        "因学：教育部门辍学/失学",
        RiskType.SCHOOLING,
        RISK,
        Source.EDUCATION,
        (),
        "教育：{member} {date} {status}（{stage}）",
        _simple_record_rule(
            Source.EDUCATION,
            "r.status IN ('辍学', '失学')",
            key_value="r.status",
            status="r.status",
            stage="CASE WHEN r.kind = '' THEN '学段未填' ELSE r.kind END",
        ),
    ),
    # -- 因安全住房 / 因安全饮水 --
    RuleSpec(
        "housing_unsafe",
        "因安全住房：住房安全等级为C/D级",
        RiskType.HOUSING,
        RISK,
        REGISTRY,
        (),
        "住房安全等级为 {grade} 级（危房）",
        _household_rule("h.housing_grade IN ('C', 'D')", "h.housing_grade", grade="h.housing_grade"),
        one_per_household=True,
    ),
    RuleSpec(
        "housing_appraisal",
        "因安全住房：住建部门鉴定为C/D级危房",
        RiskType.HOUSING,
        RISK,
        Source.HOUSING,
        (),
        "住建：{date} 鉴定住房为 {grade} 级危房（户主或成员 {member}）",
        _simple_record_rule(
            Source.HOUSING,
            "r.grade IN ('C', 'D') AND h.housing_grade <> r.grade",
            key_value="r.grade",
            grade="r.grade",
        ),
    ),
    RuleSpec(
        "water_unsafe",
        "因安全饮水：饮水不安全",
        RiskType.WATER,
        RISK,
        REGISTRY,
        (),
        "档案登记饮水不安全（饮水安全：否）",
        _household_rule("NOT h.water_safe", "'否'"),
        one_per_household=True,
    ),
    RuleSpec(
        "water_department",
        "因安全饮水：水利部门核查饮水不安全",
        RiskType.WATER,
        RISK,
        Source.WATER,
        (),
        "水利：{date} 核查饮水不安全（户主或成员 {member}）{reason}",
        _simple_record_rule(
            Source.WATER,
            "NOT r.flag AND (h.water_safe IS NULL OR h.water_safe)",
            key_value="'否'",
            reason=lambda ctx: (
                f"CASE WHEN COALESCE({ctx.dialect.json_text('r.data', '原因')}, '') = '' THEN '' "
                f"ELSE '：' || {ctx.dialect.json_text('r.data', '原因')} END"
            ),
        ),
    ),
    # -- 因灾 --
    RuleSpec(
        "disaster_victim",
        "因灾：应急部门受灾人员",
        RiskType.DISASTER,
        RISK,
        Source.DISASTER,
        (),
        "应急：{member} {date} 遭受{kind}灾害{loss}",
        _simple_record_rule(Source.DISASTER, "1 = 1", key_value="r.kind", kind="r.kind", loss=_disaster_loss),
    ),
    # -- 缺劳动力 / 家庭变故 --
    RuleSpec(
        "death_of_labour",
        "家庭变故：有劳动能力的成员死亡",
        RiskType.FAMILY,
        RISK,
        Source.REGISTRY,
        (),
        "公安：{member} 于 {date} 死亡，生前为{skill}",
        _simple_record_rule(
            Source.REGISTRY,
            f"r.kind = '死亡' AND m.labour_skill IN {in_list(sorted(WITH_LABOUR))}",
            key_value="r.kind",
            active=False,
            skill="m.labour_skill",
        ),
    ),
    RuleSpec(
        "no_labour",
        "缺劳动力：家庭无劳动能力",
        RiskType.LABOUR,
        RISK,
        REGISTRY,
        (),
        "家庭 {size} 名成员均无劳动能力（丧失劳动力或无劳动力），且未享受低保或特困供养",
        _household_rule(
            lambda ctx: (
                f"NOT h.has_labour AND h.size > 0 AND NOT EXISTS (SELECT 1 FROM {ctx.members} d "
                "WHERE d.household_id = h.id AND d.status = 'active' AND (d.dibao OR d.tekun))"
            ),
            as_text("h.size"),
            size=as_text("h.size"),
        ),
        one_per_household=True,
        reads_members=True,
    ),
    # -- 因务工就业不稳 --
    RuleSpec(
        "employment_unstable",
        "因务工就业不稳：失业或返乡",
        RiskType.EMPLOYMENT,
        RISK,
        Source.EMPLOYMENT,
        (),
        "人社：{member} {date} {status}",
        _simple_record_rule(
            Source.EMPLOYMENT, "r.status IN ('失业', '返乡')", key_value="r.status", status="r.status"
        ),
    ),
    # -- 民政 --
    RuleSpec(
        "civil_new_assistance",
        "民政新增低保/特困对象",
        RiskType.OTHER,
        RISK,
        Source.CIVIL,
        (),
        "民政：{member} {date} 新纳入{kind}，档案中未登记享受{kind}",
        _simple_record_rule(
            Source.CIVIL,
            "r.status = '新增' AND ((r.kind = '低保' AND (m.dibao IS NULL OR NOT m.dibao)) "
            "OR (r.kind = '特困' AND (m.tekun IS NULL OR NOT m.tekun)))",
            key_value="r.kind",
            kind="r.kind",
        ),
    ),
    # -- doubts (疑点): ask for checking, never a decision --
    RuleSpec(
        "doubt_exclusion",
        "疑点：比对排除信息（车辆/房产/工商/公职/存款）",
        RiskType.DOUBT,
        DOUBT,
        Source.EXCLUSION,
        (),
        "比对发现{member}有{kind}信息{note}，请核实",
        _simple_record_rule(
            Source.EXCLUSION, "1 = 1", key_value="r.kind", kind="r.kind", note=_exclusion_note
        ),
    ),
    RuleSpec(
        "doubt_school_status_missing",
        "疑点：义务教育阶段成员既无在校生状况也无未上学原因",
        RiskType.DOUBT,
        DOUBT,
        REGISTRY,
        ("school_age_min", "school_age_max"),
        "义务教育阶段成员 {member} 既未登记在校生状况，也未登记未上学原因",
        _member_rule(_school_status_missing),
        reads_members=True,
    ),
    RuleSpec(
        "doubt_eliminated_below_line",
        "疑点：风险已消除但收入仍低于监测标准",
        RiskType.DOUBT,
        DOUBT,
        REGISTRY,
        ("monitoring_line",),
        "风险已消除，但年人均纯收入 {income} 元仍低于监测收入标准 {line} 元",
        _eliminated_below_line,
        one_per_household=True,
    ),
    RuleSpec(
        "doubt_eliminated_too_soon",
        "疑点：识别不满6个月即消除风险",
        RiskType.DOUBT,
        DOUBT,
        REGISTRY,
        (),
        "识别监测时间 {identified}，风险消除时间 {eliminated}，仅间隔 {months} 个月（不满6个月）",
        _eliminated_too_soon,
        one_per_household=True,
    ),
]

RULES: dict[str, RuleSpec] = {r.code: r for r in _CATALOGUE}


def rules_for(sources: list[str] | None = None) -> list[RuleSpec]:
    """The catalogue, optionally only the rules reading one of ``sources`` ("" = the registry rules)."""
    if sources is None:
        return list(_CATALOGUE)
    wanted = set(sources)
    return [r for r in _CATALOGUE if r.source in wanted]
