"""The monthly report (月报) of a place for a month, with the previous month beside each figure.

Every figure is counted per village in a handful of grouped queries (never per household) and summed here into the
place's total and its children's rows (a county's towns, a town's villages), so the page drills down with the same
numbers. Households by monitoring type and state come from the monthly history (``registry.HouseholdMonth``, its
index led by the month then the code range); the month being reported, when no snapshot has been kept yet, from
the registry as it stands. The 公开版 (``public``) shows every count under 5 as "<5" (0 as "—").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils.module_loading import import_string

from fangfan.assistance.choices import Category
from fangfan.assistance.models import ContactRecord, Measure
from fangfan.monitoring.choices import RiskType
from fangfan.monitoring.models import RiskPoint, VerificationTask
from fangfan.regions.codes import Level, code_range, level_of
from fangfan.regions.models import Region
from fangfan.registry.choices import MonitoringState, MonitoringType
from fangfan.registry.filters import needs_helper_q
from fangfan.registry.models import Household, HouseholdMonth

from .ledgers.base import month_after

PUBLIC_MIN = 5
TREND_MONTHS = 12
FUND_TOTALS = "fangfan.assistance.ledger_exports.fund_month_totals"


def month_back(first: date, back: int) -> date:
    year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
    return date(year, month + 1, 1)


@dataclass
class Cell:
    value: int | float | str | None
    households: bool = True  # a count of households or people: left out under 5 in the 公开版

    def shown(self, public: bool) -> str:
        v = self.value
        if v is None:
            return "—"
        if public and self.households and isinstance(v, int) and v < PUBLIC_MIN:
            return "—" if v == 0 else "<5"
        if isinstance(v, float):
            return f"{v:.1f}%"
        return str(v)


@dataclass
class Section:
    key: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list[Cell]]] = field(default_factory=list)


@dataclass
class PlaceFigures:
    code: str
    name: str
    monitored: int = 0
    identified: int = 0
    open_risks: int = 0
    contacts_due: int = 0
    contacted: int = 0


@dataclass
class MonthlyReport:
    region: str
    region_name: str
    level: Level
    first: date
    previous: date
    public: bool
    live: bool  # this month's households counted from the registry (no snapshot kept yet)
    sections: list[Section]
    children: list[PlaceFigures]
    trend: dict  # month labels and the monitored households per type
    composition: dict  # type → households this month
    path: list[tuple[str, str]]  # (code, name) from the user's region down to this one

    @property
    def month_text(self) -> str:
        return f"{self.first:%Y年%m月}"

    @property
    def title(self) -> str:
        return (
            f"{self.region_name}防返贫动态监测月报（{self.month_text}）{'（公开版）' if self.public else ''}"
        )


def _scoped(model, user, action: str, lo: str, hi: str, field_name: str | None = None):
    qs = model.objects.for_user(user, action)
    column = field_name or model.region_field
    return qs.filter(**{f"{column}__gte": lo, f"{column}__lt": hi})


def _child(code: str, level: Level) -> str:
    """The code of the report's child place (a town of a county, a village of a town) holding village ``code``."""
    from .selectors import child_code

    return child_code(code, Level.VILLAGE if level >= Level.TOWN else Level(level + 1))


def monthly_report(user, *, region: str, first: date, public: bool = False) -> MonthlyReport:
    """The figures of ``region`` (inside the user's jurisdiction: the caller checks) for the month ``first``."""
    lo, hi = code_range(region)
    level = level_of(region)
    previous = month_back(first, 1)
    after, prev_after = month_after(first), first
    key, prev_key = f"{first:%Y%m}", f"{previous:%Y%m}"
    types = [t for t, _ in MonitoringType.choices]
    type_labels = dict(MonitoringType.choices)

    # --- households by type and state: twelve months of history, one grouped query ---------------------------------
    start = month_back(first, TREND_MONTHS - 1)
    history = (
        _scoped(HouseholdMonth, user, "dashboard.view", lo, hi)
        .filter(month__gte=start, month__lte=first)
        .exclude(monitoring_type="")
        .values_list("month", "region_code", "monitoring_type", "monitoring_state")
        .annotate(n=Count("id"), people=Sum("size"))
        .order_by()
    )
    by_month: dict[date, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    monitored_by_village: dict[str, int] = defaultdict(int)
    for month, code, mtype, state, n, people in history:
        cell = by_month[month][(mtype, state)]
        cell[0] += n
        cell[1] += people or 0
        if month == first and state != MonitoringState.ELIMINATED:
            monitored_by_village[code] += n
    live = first not in by_month and first == _this_month()
    if live:
        for code, mtype, state, n, people in (
            _scoped(Household, user, "dashboard.view", lo, hi, "region_id")
            .filter(cancelled=False)
            .exclude(monitoring_type="")
            .values_list("region_id", "monitoring_type", "monitoring_state")
            .annotate(n=Count("id"), people=Sum("size"))
            .order_by()
        ):
            cell = by_month[first][(mtype, state)]
            cell[0] += n
            cell[1] += people or 0
            if state != MonitoringState.ELIMINATED:
                monitored_by_village[code] += n

    def hh(month: date, mtype: str | None, state: str | None, people: bool = False) -> int:
        return sum(
            v[1 if people else 0]
            for (t, s), v in by_month.get(month, {}).items()
            if (mtype is None or t == mtype) and (state is None or s == state)
        )

    sections = []
    s = Section(
        "households",
        "一、监测对象户数和人数",
        [
            "类型",
            "监测中（户）",
            "监测中（人）",
            "风险已消除（户）",
            "合计（户）",
            "上月监测中（户）",
            "上月合计（户）",
        ],
    )
    for mtype in [*types, None]:
        label = str(type_labels[mtype]) if mtype else "合计"
        s.rows.append(
            (
                label,
                [
                    Cell(hh(first, mtype, MonitoringState.MONITORING)),
                    Cell(hh(first, mtype, MonitoringState.MONITORING, people=True)),
                    Cell(hh(first, mtype, MonitoringState.ELIMINATED)),
                    Cell(hh(first, mtype, None)),
                    Cell(hh(previous, mtype, MonitoringState.MONITORING)),
                    Cell(hh(previous, mtype, None)),
                ],
            )
        )
    sections.append(s)

    # --- new identifications and eliminations: this month, the year so far, and the previous month ---------------
    year_start = f"{min(first.year, previous.year)}01"
    households = _scoped(Household, user, "dashboard.view", lo, hi, "region_id").filter(cancelled=False)
    identified = defaultdict(int)
    identified_by_village: dict[str, int] = defaultdict(int)
    for code, month, n in (
        households.filter(identified_month__gte=year_start, identified_month__lte=key)
        .values_list("region_id", "identified_month")
        .annotate(n=Count("id"))
        .order_by()
    ):
        identified[month] += n
        if month == key:
            identified_by_village[code] += n
    eliminated = defaultdict(int)
    for month, n in (
        households.filter(eliminated_month__gte=year_start, eliminated_month__lte=key)
        .values_list("eliminated_month")
        .annotate(n=Count("id"))
        .order_by()
    ):
        eliminated[month] += n

    def ytd(counts: dict, upto: date) -> int:
        return sum(n for m, n in counts.items() if f"{upto:%Y}01" <= m <= f"{upto:%Y%m}")

    s = Section(
        "changes",
        "二、新识别和风险消除",
        ["", "本月（户）", "本年累计（户）", "上月（户）", "上月本年累计（户）"],
    )
    for label, counts in (("新识别监测对象", identified), ("风险消除", eliminated)):
        s.rows.append(
            (
                label,
                [
                    Cell(counts.get(key, 0)),
                    Cell(ytd(counts, first)),
                    Cell(counts.get(prev_key, 0)),
                    Cell(ytd(counts, previous)),
                ],
            )
        )
    sections.append(s)

    # --- open risk points by type, at the end of each month ----------------------------------------------------
    def open_at(end: date) -> Q:
        return Q(found_on__lt=end) & ~Q(state=RiskPoint.State.ELIMINATED, eliminated_on__lt=end)

    risks = defaultdict(lambda: [0, 0])
    open_by_village: dict[str, int] = defaultdict(int)
    for code, rtype, n, p in (
        _scoped(RiskPoint, user, "warning.view", lo, hi)
        .filter(found_on__lt=after)
        .values_list("region_code", "risk_type")
        .annotate(n=Count("id", filter=open_at(after)), p=Count("id", filter=open_at(prev_after)))
        .order_by()
    ):
        risks[rtype][0] += n
        risks[rtype][1] += p
        open_by_village[code] += n
    s = Section("risks", "三、未消除风险点（按风险类型，月末）", ["风险类型", "本月末（个）", "上月末（个）"])
    for rtype, label in RiskType.choices:
        if rtype in risks:
            s.rows.append((str(label), [Cell(risks[rtype][0]), Cell(risks[rtype][1])]))
    s.rows.append(
        ("合计", [Cell(sum(v[0] for v in risks.values())), Cell(sum(v[1] for v in risks.values()))])
    )
    sections.append(s)

    # --- measures by category: planned and carried out by each month's end ---------------------------------------
    measures = defaultdict(lambda: [0, 0, 0, 0])
    for category, pm, dm, pp, dp in (
        _scoped(Measure, user, "measure.view", lo, hi)
        .filter(planned_on__lt=after)
        .values_list("measure_type__category")
        .annotate(
            pm=Count("id"),
            dm=Count("id", filter=Q(done_on__lt=after)),
            pp=Count("id", filter=Q(planned_on__lt=prev_after)),
            dp=Count("id", filter=Q(done_on__lt=prev_after)),
        )
        .order_by()
    ):
        measures[category] = [pm, dm, pp, dp]
    s = Section(
        "measures",
        "四、帮扶措施（按类别，月末累计）",
        ["类别", "已安排（项）", "已落实（项）", "未落实（项）", "上月已安排（项）", "上月已落实（项）"],
    )
    for category, label in Category.choices:
        if category in measures:
            pm, dm, pp, dp = measures[category]
            s.rows.append((str(label), [Cell(pm), Cell(dm), Cell(pm - dm), Cell(pp), Cell(dp)]))
    totals = [sum(v[i] for v in measures.values()) for i in range(4)]
    s.rows.append(
        (
            "合计",
            [Cell(totals[0]), Cell(totals[1]), Cell(totals[0] - totals[1]), Cell(totals[2]), Cell(totals[3])],
        )
    )
    sections.append(s)

    # --- contacts' coverage: households that must have a helper (the month's history), contacted in the month ----
    due_by_village: dict[str, int] = defaultdict(int)
    done_by_village: dict[str, int] = defaultdict(int)
    coverage = {}
    for month, end in ((first, after), (previous, prev_after)):
        contacted = ContactRecord.objects.filter(
            household=OuterRef("household_id"), contacted_on__gte=month, contacted_on__lt=end
        )
        source = _scoped(HouseholdMonth, user, "dashboard.view", lo, hi).filter(month=month)
        needs = needs_helper_q()
        if month == first and live:
            contacted = ContactRecord.objects.filter(
                household=OuterRef("pk"), contacted_on__gte=month, contacted_on__lt=end
            )
            source = households
        rows = (
            source.filter(needs)
            .values_list("region_code" if source.model is HouseholdMonth else "region_id")
            .annotate(total=Count("pk"), done=Count("pk", filter=Q(Exists(contacted))))
            .order_by()
        )
        total = done = 0
        for code, t, d in rows:
            total += t
            done += d
            if month == first:
                due_by_village[code] += t
                done_by_village[code] += d
        coverage[month] = (done, total)
    s = Section("contacts", "五、帮扶联系覆盖", ["", "应联系（户）", "已联系（户）", "覆盖率"])
    for label, month in (("本月", first), ("上月", previous)):
        done, total = coverage[month]
        s.rows.append(
            (
                label,
                [Cell(total), Cell(done), Cell(done * 100.0 / total if total else None, households=False)],
            )
        )
    sections.append(s)

    # --- warnings handled in time: verification tasks due in the month, visited by their due date -------------------
    s = Section("tasks", "六、预警按时处置", ["", "到期核查任务（户）", "按时完成（户）", "按时率"])
    task_rows = (
        _scoped(VerificationTask, user, "warning.view", lo, hi)
        .filter(due_date__gte=previous, due_date__lt=after)
        .aggregate(
            due=Count("id", filter=Q(due_date__gte=first)),
            ontime=Count("id", filter=Q(due_date__gte=first, state="done", visited_on__lte=F("due_date"))),
            due_p=Count("id", filter=Q(due_date__lt=first)),
            ontime_p=Count("id", filter=Q(due_date__lt=first, state="done", visited_on__lte=F("due_date"))),
        )
    )
    for label, due, ontime in (
        ("本月", task_rows["due"], task_rows["ontime"]),
        ("上月", task_rows["due_p"], task_rows["ontime_p"]),
    ):
        s.rows.append(
            (label, [Cell(due), Cell(ontime), Cell(ontime * 100.0 / due if due else None, households=False)])
        )
    sections.append(s)

    # --- fund movements: the assistance app's funds (being built), once they exist --------------------------------
    fund_totals = _fund_totals()
    if fund_totals is not None:
        s = Section("funds", "七、帮扶资金收支（元）", ["", "收入", "支出", "月末余额"])
        for label, month, end in (("本月", first, after), ("上月", previous, prev_after)):
            t = fund_totals(user=user, region_code=region, first=month, after=end) or {}
            s.rows.append(
                (
                    label,
                    [Cell(t.get(k), households=False) for k in ("income", "expense", "balance")],
                )
            )
        sections.append(s)

    # --- the children's rows, the trend and the composition ----------------------------------------------------
    child_level = Level.VILLAGE if level >= Level.TOWN else Level(level + 1)
    names = dict(
        Region.objects.filter(level=child_level, code__gte=lo, code__lt=hi).values_list("code", "name")
    )
    children = {code: PlaceFigures(code=code, name=name) for code, name in sorted(names.items())}
    if level < Level.VILLAGE:
        for source, attr in (
            (monitored_by_village, "monitored"),
            (identified_by_village, "identified"),
            (open_by_village, "open_risks"),
            (due_by_village, "contacts_due"),
            (done_by_village, "contacted"),
        ):
            for code, n in source.items():
                child = children.setdefault(
                    _child(code, level), PlaceFigures(code=_child(code, level), name=code)
                )
                setattr(child, attr, getattr(child, attr) + n)
    months = [month_back(first, back) for back in range(TREND_MONTHS - 1, -1, -1)]
    trend = {
        "months": [f"{m:%Y-%m}" for m in months],
        "series": {
            str(type_labels[t]): [hh(m, t, MonitoringState.MONITORING) for m in months] for t in types
        },
    }
    composition = {str(type_labels[t]): hh(first, t, MonitoringState.MONITORING) for t in types}
    return MonthlyReport(
        region=region,
        region_name=Region.objects.filter(code=region).values_list("name", flat=True).first() or region,
        level=level,
        first=first,
        previous=previous,
        public=public,
        live=live,
        sections=sections,
        children=list(children.values()) if level < Level.VILLAGE else [],
        trend=trend,
        composition=composition,
        path=_path(user, region),
    )


def _this_month() -> date:
    from django.utils import timezone

    return timezone.localdate().replace(day=1)


def _fund_totals() -> Callable | None:
    try:
        return import_string(FUND_TOTALS)
    except ImportError:
        return None


def _path(user, region: str) -> list[tuple[str, str]]:
    """The places from the user's region down to ``region`` (the drill-down's way back)."""
    top = "" if user.is_operator else (user.region_id or "")
    codes = []
    code = region
    while code:
        codes.append(code)
        if code == top:
            break
        parent = Region.objects.filter(code=code).values_list("parent_id", flat=True).first()
        code = parent or ""
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return [(c, names.get(c, c)) for c in reversed(codes)]
