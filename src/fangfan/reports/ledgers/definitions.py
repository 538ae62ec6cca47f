"""The ledgers of DATA-FORMATS §5, each a ``Ledger`` of ``base``: its query (scoped, ordered — monitored households
first) and how a chunk of its rows is filled in with a few set-based queries. The query is scoped
(``LedgerScope.scoped``); the queries that fill a chunk in read the children of its rows by their ids
(``unscoped()``: rows of households, risk points already read under the user's scope)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db.models import Case, FloatField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Cast

from fangfan.accounts.roles import Department
from fangfan.assistance.exporting import HEADERS as MEASURE_HEADERS
from fangfan.assistance.exporting import WIDTHS as MEASURE_WIDTHS
from fangfan.assistance.exporting import measure_values
from fangfan.assistance.models import ContactRecord, Measure, MeasureType
from fangfan.assistance.selectors import priority_order
from fangfan.core.lookups import Ids
from fangfan.monitoring.choices import Channel, RiskType
from fangfan.monitoring.models import RiskPoint
from fangfan.registry.choices import ExitedClass, HouseholdType, MonitoringState, MonitoringType, Suggestion
from fangfan.registry.filters import needs_helper_q
from fangfan.registry.models import HelperAssignment, Household, Member

from .base import FunctionLedger, LedgerScope, QueryLedger, register

RISKS = dict(RiskType.choices)
CHANNELS = dict(Channel.choices)
TYPES = dict(MonitoringType.choices)
STATES = dict(MonitoringState.choices)
EXITED = dict(ExitedClass.choices)
SUGGESTIONS = dict(Suggestion.choices)
DEPARTMENTS = dict(Department.choices)
WAYS = dict(ContactRecord.Way.choices)


def month_text(raw: str) -> str:
    """``202403`` → ``2024-03`` (the registry keeps 识别监测时间 and 风险消除时间 as six digits)."""
    return f"{raw[:4]}-{raw[4:]}" if raw and len(raw) == 6 else raw


def money(value) -> str:
    return "" if value is None else f"{value:.2f}"


def joined(values: Sequence[str]) -> str:
    if len(values) < 2:  # most households: none or one risk, one measure
        return values[0] if values else ""
    return "、".join(dict.fromkeys(v for v in values if v))  # each once, in order


def texts(choices: dict) -> dict:
    """A choices dict with its labels made text once (each ``str()`` of a lazy label looks the translation up)."""
    return {k: str(v) for k, v in choices.items()}


# --- set-based lookups for a chunk of households ----------------------------------------------------------------


def heads(ids: list[int], reveal: bool) -> dict[int, str]:
    """Household id → its head's ID number, masked unless ``reveal``."""
    fields = ["household_id", "id_number" if reveal else "id_masked"]
    return dict(
        Member.objects.unscoped()
        .filter(household_id__in_ids=Ids(ids), is_head=True, status=Member.Status.ACTIVE)
        .values_list(*fields)
    )


def risk_types(ids: list[int], scope: LedgerScope) -> dict[int, list[str]]:
    found = defaultdict(list)
    qs = RiskPoint.objects.unscoped().filter(household_id__in_ids=Ids(ids))
    if scope.after:
        qs = qs.filter(found_on__lt=scope.after)
    labels = texts(RISKS)
    for household_id, risk in qs.order_by("found_on", "id").values_list("household_id", "risk_type"):
        found[household_id].append(labels.get(risk, risk))
    return found


def measure_names(scope: LedgerScope) -> dict[int, str]:
    """The catalogue's names (a few dozen entries), read once per ledger: no join per measure."""
    return scope.kept("measure_names", lambda: dict(MeasureType.objects.values_list("id", "name")))


def measures_of(ids: list[int], scope: LedgerScope) -> dict[int, list[str]]:
    found = defaultdict(list)
    qs = Measure.objects.unscoped().filter(household_id__in_ids=Ids(ids))
    if scope.after:
        qs = qs.filter(planned_on__lt=scope.after)
    names = measure_names(scope)
    for household_id, type_id in qs.order_by("planned_on", "id").values_list(
        "household_id", "measure_type_id"
    ):
        found[household_id].append(names.get(type_id, ""))
    return found


def helpers_of(ids: list[int]) -> dict[int, str]:
    return dict(
        HelperAssignment.objects.unscoped()
        .filter(household_id__in_ids=Ids(ids), ended_on__isnull=True)
        .values_list("household_id", "helper__full_name")
    )


def head_masked() -> Subquery:
    """The household's head's masked ID number, read with the household's row (``member_head_masked_idx``): one
    lookup by the database per row instead of a list of 2 000 ids sent back per chunk."""
    return Subquery(
        Member.objects.unscoped()
        .filter(household_id=OuterRef("id"), is_head=True, status=Member.Status.ACTIVE)
        .values("id_masked")[:1]
    )


def households(
    scope: LedgerScope,
    q: Q,
    *,
    first: Q | None = None,
    fields: tuple[str, ...] = (),
    extra: dict | None = None,
) -> list:
    """The scope's households (not cancelled) matching ``q`` by village and 户编号, ``first`` ones first: two parts,
    each read in the order of an index led by the village (a town's page of monitored households reads its 50 rows
    from ``hh_monitored_idx`` instead of sorting the town's 16 000 households by a ``CASE``)."""
    qs = (
        scope.scoped(Household, "household.view", field="region_id")
        .filter(q, cancelled=False)
        .order_by("region_id", "number")
        # 年人均纯收入 as a float (``h.income``), only ever printed with two decimals: Django's decimal converter
        # was a tenth of the time a county's rows took on SQLite (where the column is stored as a REAL anyway)
        .annotate(income=Cast("per_capita_income", FloatField()), **(extra or {}))
        # named tuples of the listed columns: a model instance each cost ≈ 60 µs (a county's 11 000: 0.7 s, ten
        # times the query), and a whole row would decrypt the phone and convert nine decimals
        .values_list("id", "region_id", "number", "head_name", *fields, *(extra or {}), named=True)
    )
    return [qs.filter(first), qs.exclude(first)] if first is not None else [qs]


AT_RISK = ~Q(monitoring_type="") & ~Q(monitoring_state=MonitoringState.ELIMINATED)


def identified_by(scope: LedgerScope) -> Q:
    """A ledger asked for a month lists the monitored households identified by its end."""
    return Q(identified_month__lte=scope.month_key) if scope.month_key else Q()


# --- 监测对象台账 -----------------------------------------------------------------------------------------------


def _monitored_query(scope: LedgerScope):
    return households(
        scope,
        ~Q(monitoring_type="") & identified_by(scope),
        first=AT_RISK,
        fields=(
            "size",
            "monitoring_type",
            "identified_month",
            "income",
            "monitoring_state",
            "eliminated_month",
        ),
        extra={} if scope.reveal_ids else {"head_masked": head_masked()},
    )


def _monitored_render(scope: LedgerScope, chunk: list) -> Iterable[list]:
    ids = [h.id for h in chunk]
    ids_of = heads(ids, True) if scope.reveal_ids else None
    risks, measures, helpers = risk_types(ids, scope), measures_of(ids, scope), helpers_of(ids)
    types, states, places = texts(TYPES), texts(STATES), scope.places()
    no_risks, no_measures = (), ()
    for h in chunk:
        town, village = places(h.region_id)
        yield [
            town,
            village,
            h.number,
            h.head_name,
            ids_of.get(h.id, "") if ids_of is not None else h.head_masked or "",
            h.size,
            types.get(h.monitoring_type, ""),
            month_text(h.identified_month),
            joined(risks.get(h.id, no_risks)),
            money(h.income),
            joined(measures.get(h.id, no_measures)),
            helpers.get(h.id, ""),
            states.get(h.monitoring_state, ""),
            month_text(h.eliminated_month),
            "",  # 消除方式: recorded by the approval of 风险消除 (the workflows app), blank until it exists
        ]


register(
    QueryLedger(
        code="monitored",
        title="监测对象台账",
        description="脱贫不稳定户、边缘易致贫户、突发严重困难户，风险未消除的在前",
        columns=(
            "序号",
            "乡镇",
            "村",
            "户编号",
            "户主姓名",
            "证件号码",
            "家庭人口",
            "监测对象类型",
            "识别监测时间",
            "风险类型",
            "年人均纯收入",
            "帮扶措施",
            "帮扶责任人/联系人",
            "监测状态",
            "风险消除时间",
            "消除方式",
        ),
        widths=(6, 10, 10, 20, 9, 20, 6, 12, 10, 14, 10, 18, 12, 9, 10, 10),
        numbers=(0, 6),
        money=(10,),
        has_ids=True,
        query=_monitored_query,
        render=_monitored_render,
    )
)


# --- 边缘易致贫户台账 -------------------------------------------------------------------------------------------


def _edge_query(scope: LedgerScope):
    # "not blank" spelled out: the planner matches it to the partial index of monitored households
    marginal = ~Q(monitoring_type="") & Q(monitoring_type=MonitoringType.MARGINAL)
    fields = ("size", "income", "identified_month", "monitoring_state")
    return households(scope, marginal & identified_by(scope), first=AT_RISK, fields=fields)


def _edge_render(scope: LedgerScope, chunk: list) -> Iterable[list]:
    ids = [h.id for h in chunk]
    risks, measures, helpers = risk_types(ids, scope), measures_of(ids, scope), helpers_of(ids)
    states, places = texts(STATES), scope.places()
    for h in chunk:
        town, village = places(h.region_id)
        yield [
            town,
            village,
            h.number,
            h.head_name,
            h.size,
            money(h.income),
            joined(risks.get(h.id, ())),
            month_text(h.identified_month),
            helpers.get(h.id, ""),
            joined(measures.get(h.id, ())),
            states.get(h.monitoring_state, ""),
        ]


register(
    QueryLedger(
        code="edge",
        title="边缘易致贫户台账",
        description="边缘易致贫户，风险未消除的在前",
        columns=(
            "序号",
            "乡镇",
            "村",
            "户编号",
            "户主姓名",
            "家庭人口",
            "年人均纯收入",
            "风险类型",
            "识别监测时间",
            "联系人",
            "帮扶措施",
            "监测状态",
        ),
        widths=(6, 10, 10, 20, 9, 6, 10, 16, 10, 12, 20, 10),
        numbers=(0, 5),
        money=(6,),
        query=_edge_query,
        render=_edge_render,
    )
)


# --- 脱贫户分类台账 ---------------------------------------------------------------------------------------------

EXITED_FIRST = Q(exited_class=ExitedClass.MONITORED) | AT_RISK


def _exited_query(scope: LedgerScope):
    fields = ("size", "exit_year", "income", "exited_class", "suggestion", "suggestion_reason")
    return households(scope, Q(household_type=HouseholdType.EXITED), first=EXITED_FIRST, fields=fields)


def _exited_render(scope: LedgerScope, chunk: list) -> Iterable[list]:
    helpers = helpers_of([h.id for h in chunk])
    classes, suggestions, places = texts(EXITED), texts(SUGGESTIONS), scope.places()
    for h in chunk:
        town, village = places(h.region_id)
        yield [
            town,
            village,
            h.number,
            h.head_name,
            h.size,
            h.exit_year or "",
            money(h.income),
            classes.get(h.exited_class, "未分类"),
            suggestions.get(h.suggestion, ""),
            h.suggestion_reason,
            helpers.get(h.id, ""),
        ]


register(
    QueryLedger(
        code="exited",
        title="脱贫户分类台账",
        description="脱贫户的分类与系统建议，脱贫监测户和风险未消除的在前",
        columns=(
            "序号",
            "乡镇",
            "村",
            "户编号",
            "户主姓名",
            "家庭人口",
            "脱贫年度",
            "年人均纯收入",
            "脱贫户分类",
            "系统建议分类",
            "建议理由",
            "帮扶责任人",
        ),
        widths=(6, 10, 10, 20, 9, 6, 8, 10, 10, 12, 30, 12),
        numbers=(0, 5, 6),
        money=(7,),
        query=_exited_query,
        render=_exited_render,
    )
)


# --- 风险点台账 -------------------------------------------------------------------------------------------------


def _risks_query(scope: LedgerScope):
    qs = scope.scoped(RiskPoint, "warning.view")
    if scope.first:  # the risk points standing in the month: found by its end, not eliminated before it began
        qs = qs.filter(found_on__lt=scope.after).exclude(eliminated_on__lt=scope.first)
    return qs.select_related("household").order_by(
        priority_order(),
        Case(When(state="eliminated", then=Value(1)), default=Value(0)),
        "region_code",
        "found_on",
        "id",
    )


def _risks_render(scope: LedgerScope, chunk: list[RiskPoint]) -> Iterable[list]:
    found = defaultdict(list)
    for risk_id, name in (
        Measure.objects.unscoped()
        .filter(risk_id__in=[r.pk for r in chunk])
        .order_by("planned_on", "id")
        .values_list("risk_id", "measure_type__name")
    ):
        found[risk_id].append(name)
    for r in chunk:
        yield [
            scope.village_of(r.region_code),
            r.household.number,
            r.household.head_name,
            str(RISKS.get(r.risk_type, r.risk_type)),
            str(CHANNELS.get(r.channel, r.channel)),
            r.found_on.isoformat(),
            r.deadline.isoformat(),
            joined(found.get(r.pk, ())),
            r.get_state_display(),
            r.eliminated_on.isoformat() if r.eliminated_on else "",
        ]


register(
    QueryLedger(
        code="risks",
        title="风险点台账",
        description="返贫致贫风险点及其措施、限期与消除",
        action="warning.view",
        columns=(
            "序号",
            "村",
            "户编号",
            "户主姓名",
            "风险类型",
            "来源",
            "发现日期",
            "限期消除日期",
            "帮扶措施",
            "状态",
            "消除日期",
        ),
        widths=(6, 10, 20, 9, 14, 14, 11, 11, 24, 9, 11),
        query=_risks_query,
        render=_risks_render,
    )
)


# --- 帮扶措施落实台账 (assistance's export, the same rows) -------------------------------------------------------


def _measures_query(scope: LedgerScope):
    qs = scope.scoped(Measure, "measure.view")
    if scope.first:  # planned by the month's end
        qs = qs.filter(planned_on__lt=scope.after)
    return qs.select_related("household", "measure_type", "risk").order_by("priority", "planned_on", "id")


def _measures_render(scope: LedgerScope, chunk: list[Measure]) -> Iterable[list]:
    villages = scope.names()
    for m in chunk:
        yield measure_values(m, villages, RISKS, DEPARTMENTS)


register(
    QueryLedger(
        code="measures",
        title="帮扶措施落实台账",
        description="每项帮扶措施的计划、落实与金额",
        action="measure.view",
        columns=tuple(MEASURE_HEADERS),
        widths=tuple(MEASURE_WIDTHS),
        money=(12,),
        query=_measures_query,
        render=_measures_render,
    )
)


# --- 联系台账 (assistance's monthly contact ledger) ---------------------------------------------------------------


def _contacts_query(scope: LedgerScope):
    """The households that must have a 帮扶责任人/联系人 (``registry.filters.needs_helper_q``, as the registry's
    ``assistance.contacts.contact_ledger``), monitored first; their contacts of the month are read per chunk."""
    return households(scope, needs_helper_q(), first=EXITED_FIRST)


def _contacts_render(scope: LedgerScope, chunk: list) -> Iterable[list]:
    ids = [h.id for h in chunk]
    latest: dict[int, ContactRecord] = {}
    counts: dict[int, int] = defaultdict(int)
    if scope.first:
        for record in (
            ContactRecord.objects.unscoped()
            .filter(
                household_id__in_ids=Ids(ids), contacted_on__gte=scope.first, contacted_on__lt=scope.after
            )
            .order_by("household_id", "-contacted_on", "-id")
        ):
            counts[record.household_id] += 1
            latest.setdefault(record.household_id, record)
    helpers = helpers_of(ids)
    for h in chunk:
        record = latest.get(h.id)
        learned = (
            "；".join(text for text in (record.living, record.risks, record.needs) if text) if record else ""
        )
        yield [
            scope.village_of(h.region_id),
            h.number,
            h.head_name,
            helpers.get(h.id, "") or "未落实",
            counts.get(h.id, 0),
            str(WAYS.get(record.way, record.way)) if record else "",
            record.contacted_on.isoformat() if record else "",
            learned,
            ("是" if record.risk_found else "否") if record else "",
        ]


register(
    QueryLedger(
        code="contacts",
        title="联系台账",
        description="须每月联系的农户（脱贫户、风险未消除的监测对象）本月的联系",
        monthly=True,
        columns=(
            "序号",
            "村",
            "户编号",
            "户主姓名",
            "帮扶责任人/联系人",
            "本月联系次数",
            "联系方式",
            "最近联系日期",
            "了解情况",
            "发现风险",
        ),
        widths=(6, 10, 20, 9, 14, 8, 10, 12, 40, 8),
        numbers=(0, 5),
        query=_contacts_query,
        render=_contacts_render,
    )
)


# --- 资金台账, 消费帮扶台账: the assistance app's funds and sales (being built); offered once they exist ------------

register(
    FunctionLedger(
        code="funds",
        title="资金台账",
        description="帮扶资金的收支与余额",
        action="measure.view",
        monthly=True,
        columns=(
            "序号",
            "日期",
            "凭证号",
            "摘要",
            "收入（元）",
            "支出（元）",
            "余额（元）",
            "户编号",
            "户主姓名",
            "措施",
            "审批人",
        ),
        widths=(6, 11, 12, 24, 12, 12, 12, 20, 9, 16, 10),
        money=(4, 5, 6),
        function_path="fangfan.assistance.ledger_exports.ledger_fund_rows",
    )
)
register(
    FunctionLedger(
        code="consumption",
        title="消费帮扶台账",
        description="农户产品的消费帮扶销售",
        action="measure.view",
        monthly=True,
        columns=("序号", "村", "户编号", "户主姓名", "产品", "渠道", "数量", "单位", "金额（元）", "日期"),
        widths=(6, 10, 20, 9, 16, 14, 8, 6, 12, 11),
        money=(8,),
        function_path="fangfan.assistance.ledger_exports.ledger_consumption_rows",
    )
)
