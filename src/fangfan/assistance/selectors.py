"""Reads of 帮扶措施 that need scoping: the measures list (monitored households first, M8), the department's
待落实措施, the doubts (疑点) counted set-based, and the household page's section."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.utils import timezone

from fangfan.core.scoping import counts_together
from fangfan.monitoring.models import RiskPoint
from fangfan.registry.choices import ExitedClass, MonitoringState
from fangfan.registry.models import Household

from .choices import PENDING_STATES, Kind, MeasureState
from .models import Measure, MeasureEvidence, MeasureType, PolicyException, RiskClosure

# The doubts the national system raises on measures (DOMAIN.md §5), in its wording.
DOUBTS = {
    "safety_net_only": "有劳动能力但仅有兜底保障类措施",
    "risk_without_measure": "风险点发现一个月后仍无帮扶措施",
    "done_without_evidence": "措施已落实但无佐证材料",
}


def measures_for_user(user, action: str = "measure.view") -> QuerySet[Measure]:
    """Measures in the user's jurisdiction; a department user sees only its department's."""
    return Measure.objects.for_user(user, action)


def priority_q(prefix: str = "household__") -> Q:
    """监测对象 (risk not eliminated) and 脱贫监测户: M8 makes them the priority of every policy and measure."""
    return Q(**{f"{prefix}exited_class": ExitedClass.MONITORED}) | (
        ~Q(**{f"{prefix}monitoring_type": ""})
        & ~Q(**{f"{prefix}monitoring_state": MonitoringState.ELIMINATED})
    )


def priority_order(prefix: str = "household__"):
    return Case(When(priority_q(prefix), then=Value(0)), default=Value(1), output_field=IntegerField())


def month_before(today: date) -> date:
    """The same day a month earlier (the last day of that month when it has no such day)."""
    first = today.replace(day=1)
    previous_last = first - timedelta(days=1)
    return previous_last.replace(day=min(today.day, previous_last.day))


def _safety_net_only(user, households: QuerySet[Household]) -> QuerySet[Household]:
    """Of ``households``, those with labour capacity (not cancelled) that have a 兜底保障 measure in the user's
    jurisdiction and no measure (未落实 aside) of another kind. The candidates are read from the jurisdiction's
    measures grouped by household — those whose measures here (未落实 aside) are all 兜底保障, from
    ``measure_region_cover_idx`` — and only they are probed for a measure of another kind elsewhere (a household
    that moved keeps its measures' places) by ``measure_household_idx``. Probing each household of every 兜底保障
    measure took three times as long on PostgreSQL (docs/benchmarks.md, measures_list)."""
    candidates = (
        measures_for_user(user)
        .exclude(state=MeasureState.FAILED)
        .order_by()
        .values("household_id")
        .annotate(
            all_safety_net=Min(
                Case(When(measure_type__kind=Kind.SAFETY_NET, then=Value(1)), default=Value(0))
            )
        )
        .filter(all_safety_net=1)
        .values("household_id")
    )
    other_kind = (
        Measure.objects.unscoped()
        .filter(household=OuterRef("pk"))
        .exclude(state=MeasureState.FAILED)
        .exclude(measure_type__kind=Kind.SAFETY_NET)
    )
    return households.filter(pk__in=candidates, has_labour=True, cancelled=False).exclude(Exists(other_kind))


def _safety_net_only_households(user) -> QuerySet[Household]:
    """Households with labour capacity whose measures (at least one, 未落实 aside) are all 兜底保障."""
    return _safety_net_only(user, Household.objects.for_user(user, "measure.view"))


def risks_without_measure(user, today: date | None = None) -> QuerySet[RiskPoint]:
    """Unresolved risk points found more than a month ago with no measure yet."""
    today = today or timezone.localdate()
    return (
        RiskPoint.objects.for_user(user, "measure.view")
        .filter(state__in=RiskPoint.UNRESOLVED, found_on__lt=month_before(today))
        .filter(~Exists(Measure.objects.filter(risk=OuterRef("pk"))))
    )


def _doubt_q(user, doubt: str) -> Q | None:
    if doubt == "safety_net_only":
        return Q(household__in=_safety_net_only_households(user).values("pk"))
    if doubt == "done_without_evidence":
        return Q(state=MeasureState.DONE) & ~Q(Exists(MeasureEvidence.objects.filter(measure=OuterRef("pk"))))
    return None


def doubt_counts(user, today: date | None = None) -> dict[str, int]:
    """The three doubts over the whole jurisdiction (no loop over households), counted in one statement."""
    if not user.can("measure.view"):
        return {}
    measures = measures_for_user(user)
    counts = {"done_without_evidence": measures.filter(_doubt_q(user, "done_without_evidence"))}
    if getattr(user, "role", "") != "department":  # its measures only: risk points are not assigned to it
        counts = {
            # the households of the jurisdiction's measures (whatever region the household has now)
            "safety_net_only": _safety_net_only(user, Household.objects.unscoped()),
            "risk_without_measure": risks_without_measure(user, today),
            **counts,
        }
    return counts_together(counts)


@dataclass
class MeasureFilters:
    state: str = ""
    category: str = ""
    department: str = ""
    village: str = ""
    overdue: bool = False
    doubt: str = ""
    pending: bool = False  # 待落实: 计划 and 落实中
    applied: dict = field(default_factory=dict)


def measure_list(user, filters: MeasureFilters, today: date | None = None) -> QuerySet[Measure]:
    """The 措施落实 list: monitored households first, then the earliest planned date."""
    today = today or timezone.localdate()
    qs = measures_for_user(user)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.pending:
        qs = qs.filter(state__in=PENDING_STATES)
    if filters.category:
        qs = qs.filter(measure_type__category=filters.category)
    if filters.department:
        qs = qs.filter(department=filters.department)
    if filters.village:
        qs = qs.filter(region_code=filters.village)
    if filters.overdue:
        qs = qs.filter(planned_on__lt=today).exclude(state=MeasureState.DONE)
    if filters.doubt:
        q = _doubt_q(user, filters.doubt)
        if q is not None:
            qs = qs.filter(q)
    return qs.select_related("household", "measure_type", "risk").order_by("priority", "planned_on", "id")


# What the 措施落实 page shows of a measure's household, risk point and catalogue entry (measure_list.html): the
# whole household row (50 columns) and risk point made half the time of reading a page's 50 rows.
LIST_ONLY = (
    *(f.name for f in Measure._meta.concrete_fields),
    "household__number",
    "household__head_name",
    "household__exited_class",
    "household__monitoring_type",
    "household__monitoring_state",
    "measure_type__name",
    "measure_type__kind",
    "measure_type__category",
    "risk__risk_type",
)


class PagedByIds:
    """A list queryset that ``Paginator`` pages in two steps: the page's ids in the queryset's order, then only
    those rows with their related ones (order kept). Sorting a town's measures with every column of the measure,
    household, risk point and catalogue entry in the sorter was slow; the ids alone are read from
    ``measure_region_order_idx`` (the household's priority is kept on the measure) (docs/benchmarks.md).

    ``page(number, per_page)`` reads that page's ids with the total beside them (``COUNT(*) OVER ()``: the ids are
    sorted among all the matching rows anyway), so the pager's count costs no statement of its own."""

    def __init__(self, queryset: QuerySet, *, only: tuple[str, ...] = ()) -> None:
        self.queryset = queryset
        self.only = only
        self._count: int | None = None
        self._ids: dict[int, tuple[int, list[int]]] = {}  # start → (stop, the ids read from there)

    def count(self) -> int:
        if self._count is None:
            self._count = self.queryset.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def page(self, number: int | str | None, per_page: int):
        """``Paginator(self, per_page).get_page(number)``, the page's ids and the total read together."""
        from django.core.paginator import Paginator

        n = int(number) if str(number or "").isdigit() and 0 < int(number) < 1_000_000 else 1
        start = (n - 1) * per_page
        window = list(
            self.queryset.annotate(total_rows=Window(Count("pk"))).values_list("pk", "total_rows")[
                start : start + per_page
            ]
        )
        if window:
            self._count = window[0][1]
            self._ids[start] = (start + per_page, [pk for pk, _total in window])
        return Paginator(self, per_page).get_page(n)

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self[key : key + 1][0]
        start = key.start or 0
        stop, ids = self._ids.get(start, (0, None))
        if ids is not None and key.stop is not None and key.stop <= stop:
            ids = ids[: key.stop - start]  # the last page: the pager asks up to the count
        else:
            ids = list(self.queryset.values_list("pk", flat=True)[key])
        rows = self.queryset.filter(pk__in=ids).order_by()
        if self.only:
            rows = rows.only(*self.only)
        rows = rows.in_bulk()
        return [rows[pk] for pk in ids if pk in rows]


def active_catalogue() -> list[MeasureType]:
    return list(MeasureType.objects.filter(active=True).order_by("sort", "id"))


# --- the household page ----------------------------------------------------------------------------------------


def household_section(household, user) -> dict:
    """The household page's 帮扶措施 section: its risk points (open first) each with its measures and closing
    steps, the measures for the household as a whole, its M8 exceptions, and what the user may do. Four queries.
    The evidence and closing steps are prefetched ``unscoped()``: those of the measures and risk points just read
    under the user's scope."""
    measures = list(
        measures_for_user(user)
        .filter(household=household)
        .select_related("measure_type")
        .prefetch_related(Prefetch("evidence", queryset=MeasureEvidence.objects.unscoped().order_by("id")))
        .order_by("planned_on", "id")
    )
    risks = list(
        RiskPoint.objects.for_user(user, "measure.view")
        .filter(household=household)
        .prefetch_related(
            Prefetch("closures", queryset=RiskClosure.objects.unscoped().select_related("actor"))
        )
        .order_by(
            Case(When(state=RiskPoint.State.ELIMINATED, then=Value(1)), default=Value(0)), "found_on", "id"
        )
    )
    by_risk: dict[int | None, list[Measure]] = {}
    for m in measures:
        by_risk.setdefault(m.risk_id, []).append(m)
    for r in risks:
        r.measure_rows = by_risk.get(r.pk, [])
        r.has_done = any(m.state == MeasureState.DONE for m in r.measure_rows)
        steps = list(r.closures.all())
        r.last_closure = steps[-1] if steps else None
    exceptions = list(
        PolicyException.objects.for_user(user, "measure.view")
        .filter(household=household)
        .select_related("requested_by", "decided_by")
    )
    return {
        "risks": risks,
        "household_measures": by_risk.get(None, []),
        "exceptions": exceptions,
    }
