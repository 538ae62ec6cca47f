"""Statistics over the registry: counts per place and category over the user's jurisdiction, from the counts the
database keeps per village (``registry.counts``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from fangfan.policy.selectors import monitoring_line_expression
from fangfan.regions.codes import CODE_LENGTH, PREFIX, Level, code_range, level_of
from fangfan.regions.models import Region
from fangfan.registry.choices import MonitoringState
from fangfan.registry.counts import count_rows
from fangfan.registry.filters import CATEGORIES, below_line_q, category_of, suggestion_differs
from fangfan.registry.models import Household


def below_line_count(user, lines: tuple, scope: str) -> int:
    """Households of the jurisdiction inside ``scope`` (a region code) whose 年人均纯收入 is below the monitoring line
    in force for their village (cancelled ones left out; ``registry.filters.below_line_q``, which the list's
    低于监测收入标准 filter uses too). For a county the range is written so that SQLite takes the income index rather
    than the region's."""
    large = level_of(scope) <= Level.COUNTY
    inside = scope != user.region_id  # only the scope's range is written indexable (cf. the list's ``area``)
    qs = Household.objects.for_user(user, "dashboard.view", region_index=not (large or inside))
    if inside:
        lo, hi = code_range(scope)
        qs = qs.filter(region_id__gte=lo, region_id__lt=hi)
    return qs.filter(below_line_q(scope, lines), cancelled=False).count()


def dashboard_place(user, code: str | None) -> str | None:
    """``code`` when it names a town or more strictly inside ``user``'s jurisdiction (a county user looking at one
    of its towns), else None — the dashboard then covers the whole jurisdiction."""
    if not code or not user.region_id or len(code) != CODE_LENGTH or not code.isdigit():
        return None
    span = user.jurisdiction_range()
    if span is None or not (span[0] <= code < span[1]) or code == user.region_id:
        return None
    if level_of(code) >= Level.VILLAGE or level_of(code) <= level_of(user.region_id):
        return None
    return code


def child_code(village: str, level: Level) -> str:
    """The code of the region at ``level`` that contains ``village``."""
    return village[: PREFIX[level]].ljust(CODE_LENGTH, "0")


@dataclass
class PlaceRow:
    code: str
    name: str
    counts: dict[str, int] = field(default_factory=dict)
    differs: int = 0
    total: int = 0
    monitoring: int = 0  # 监测对象 whose risk is not eliminated (a subset of the row, across its categories)

    @property
    def cells(self) -> list[int]:
        return [self.counts.get(key, 0) for key, _label in CATEGORIES]


@dataclass
class RegistryCounts:
    level: Level
    rows: list[PlaceRow]
    households: int = 0
    members: int = 0
    monitoring: int = 0
    below_line: int = 0
    differs: int = 0
    line: Decimal = Decimal(0)
    by_category: dict[str, int] = field(default_factory=dict)


def registry_counts(user, place: str | None = None) -> RegistryCounts | None:
    """Households per place (the level below the user's region, or below ``place`` — a region inside it, see
    ``dashboard_place``; a village clerk's own village) and category, with totals, over the jurisdiction or that
    place (cancelled households excluded).

    The counts come from ``registry.counts`` (per village and counted columns, kept exact by triggers on every
    write: a few thousand rows for a county instead of grouping 250 000 households); the categories are summed up
    here. Only 收入低于监测线 reads the households, and only those below the line, from the income index."""
    if not user.region_id:
        return None
    scope = place or user.region_id
    region_level = level_of(scope)
    row_level = Level.VILLAGE if region_level >= Level.TOWN else Level(region_level + 1)
    lines = monitoring_line_expression(scope)
    line = lines[1]
    lo, hi = code_range(scope)
    within = {"region_code__gte": lo, "region_code__lt": hi} if place else {}
    rows = []
    kinds: dict[tuple, tuple[str, bool, bool]] = {}  # a few dozen combinations repeat in every village
    for (
        region_code,
        household_type,
        exited_class,
        monitoring_type,
        state,
        suggestion,
        _c,
        n,
        people,
    ) in count_rows(user, "dashboard.view", **within):
        key = (household_type, exited_class, monitoring_type, state, suggestion)
        kind = kinds.get(key)
        if kind is None:
            kind = kinds[key] = (
                category_of(household_type, exited_class, monitoring_type),
                suggestion_differs(household_type, exited_class, monitoring_type, suggestion),
                bool(monitoring_type) and state != MonitoringState.ELIMINATED,
            )
        category, differs, monitored = kind
        rows.append(
            {
                "region_id": region_code,
                "category": category,
                "differs": differs,
                "n": n,
                "people": people,
                "monitoring": n if monitored else 0,
            }
        )
    places: dict[str, PlaceRow] = {}
    result = RegistryCounts(level=row_level, rows=[], line=line)
    for row in rows:
        code = child_code(row["region_id"], row_level)
        place = places.setdefault(code, PlaceRow(code=code, name=code))
        n = row["n"]
        place.counts[row["category"]] = place.counts.get(row["category"], 0) + n
        place.total += n
        place.monitoring += row["monitoring"] or 0
        result.by_category[row["category"]] = result.by_category.get(row["category"], 0) + n
        if row["differs"]:
            place.differs += n
            result.differs += n
        result.households += n
        result.members += row["people"] or 0
        result.monitoring += row["monitoring"] or 0
    result.below_line = below_line_count(user, lines, scope)
    # Every place of the jurisdiction (or of ``place``) gets a row, with zeros where nobody is registered yet.
    names = dict(
        Region.objects.for_user(user, "region.view")
        .filter(level=row_level, code__gte=lo, code__lt=hi)
        .values_list("code", "name")
    )
    for code in sorted(set(places) | set(names)):
        place = places.get(code) or PlaceRow(code=code, name=code)
        place.name = names.get(code, code)
        result.rows.append(place)
    return result
