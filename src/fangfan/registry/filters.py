"""The household list's filters, search and sort keys — defined once, used by the list page, its count, and the
list-page export, so that what a user sees is what they export.

``household_filter(qs, params) -> (qs, cleaned)`` takes a queryset already restricted by ``for_user`` and the
request's query parameters; invalid values are ignored (a stale bookmark still opens), and ``cleaned`` holds the
values that were applied, as strings:

- ``village`` — a 12-digit village code (the jurisdiction has already limited the rows);
- ``household_type``, ``exited_class``, ``monitoring_type``, ``monitoring_state``, ``suggestion`` — codes of
  ``registry.choices``; ``suggestion=none`` selects households without a suggestion;
- ``area`` — a 12-digit code of a town or more (a county's dashboard row): its households;
- ``category`` — a category of the statistics (``CATEGORIES``: the dashboard's columns, which partition the
  households; ``exited_unclassified`` and ``general`` are no single column's value);
- ``differs=1`` — the system suggestion differs from the current class;
- ``at_risk=1`` — 监测对象 whose risk is not eliminated; ``below_line=1`` — 年人均纯收入 below the monitoring line in
  force for the household's village (the dashboard's figures);
- ``helper`` — a user's id: the households whose current 帮扶责任人/联系人 that user is; ``no_helper=1`` —
  households that need one (``needs_helper_q``) and have none in office (none named, or the account disabled);
  ``needs_helper=1`` — households that need one, whether or not they have one;
- ``cancelled=1`` — cancelled households only (by default they are left out);
- ``q`` — a search: four characters of digits (or three and X) find the last four digits of a member's ID;
  five or more digits find the start of a 户编号 and, when they are a whole valid ID number (18 characters, 15
  digits or a 20-character 残疾人证号, as typed or pasted), the household of the member holding it (by the blind
  index); Latin letters find pinyin initials (``zs`` → 张三); anything else finds the start of the head's or a
  member's name. Each is an indexable range or equality on both databases (``LIKE '%…%'`` would scan);
- ``sort`` — ``number`` (by village, then 户编号), ``per_capita_income`` or ``size``, with ``-`` for descending
  (default ``number``).

``household_list(user, params)`` is the entry point: the jurisdiction, then the filters. For a county or more sorted
by 年人均纯收入 it writes the jurisdiction so that SQLite walks the income-ordered index and stops after the page
(the region-led index would read and sort every household of the county: 55 → 0.1 ms for page 1, 171 → 1 ms for
page 200, measured on 250 000 households), and likewise by 家庭人口 (its own index); a town keeps the region-led
index, which holds a town's rows together.
"""

from __future__ import annotations

import re

from django.db.models import Exists, F, Func, OuterRef, Q, Value
from django.db.models.lookups import Exact, GreaterThanOrEqual, LessThan

from fangfan.core.scoping import Unindexed, jurisdiction_span
from fangfan.policy.selectors import monitoring_line_expression
from fangfan.regions.codes import Level, code_range, level_of

from .choices import ExitedClass, HouseholdType, MonitoringState, MonitoringType, Suggestion
from .idnumber import IdNumberError, normalize_id, parse_id
from .models import HelperAssignment, Household, Member
from .services import id_index

CHOICE_FILTERS = {
    "household_type": HouseholdType.values,
    "exited_class": ExitedClass.values,
    "monitoring_type": MonitoringType.values,
    "monitoring_state": MonitoringState.values,
    "suggestion": [*Suggestion.values, "none"],
}
SORT_KEYS = ("number", "per_capita_income", "size")
DEFAULT_SORT = "number"
_LAST4 = re.compile(r"^[0-9]{3}[0-9Xx]$")
_INITIALS = re.compile(r"^[A-Za-z]{1,20}$")
# Five or more digits, perhaps ending in X, once cleaned by ``normalize_id`` (blanks, full-width digits, as pasted):
# a 户编号 or its beginning, or a whole ID number.
_DIGITS = re.compile(r"^[0-9]{4,}[0-9X]$|^[0-9]{17}X[0-9]{2}$")  # the second: a 残疾人证号 whose ID ends in X
_VILLAGE = re.compile(r"^[0-9]{12}$")
_TOP = "\U0010ffff"


def suggestion_differs_q() -> Q:
    """Households whose system suggestion is not their current class: an exited household suggested another
    脱贫户分类, or any household suggested 边缘易致贫户 / 突发严重困难户 without being that monitoring object."""
    exited_classes = [ExitedClass.NOT_ENJOYING, ExitedClass.ENJOYING, ExitedClass.MONITORED]
    return (
        (
            Q(household_type=HouseholdType.EXITED, suggestion__in=exited_classes)
            & ~Q(suggestion=F("exited_class"))
        )
        | (Q(suggestion=Suggestion.MARGINAL) & ~Q(monitoring_type=MonitoringType.MARGINAL))
        | (Q(suggestion=Suggestion.SUDDEN) & ~Q(monitoring_type=MonitoringType.SUDDEN))
    )


_EXITED_CLASSES = frozenset(ExitedClass.values)

# The statistics' categories (the dashboard's columns): they partition the households — an exited household counts
# under its class, any other under its monitoring-object type if it is 边缘易致贫户 or 突发严重困难户, else as 一般农户.
CATEGORIES: list[tuple[str, str]] = [
    (ExitedClass.NOT_ENJOYING, "不享受政策脱贫户"),
    (ExitedClass.ENJOYING, "享受政策脱贫户"),
    (ExitedClass.MONITORED, "脱贫监测户"),
    ("exited_unclassified", "脱贫户（未分类）"),
    (MonitoringType.MARGINAL, "边缘易致贫户"),
    (MonitoringType.SUDDEN, "突发严重困难户"),
    ("general", "一般农户"),
]
CATEGORY_LABELS = dict(CATEGORIES)
_OWN_CATEGORY = (MonitoringType.MARGINAL, MonitoringType.SUDDEN)


def category_of(household_type: str, exited_class: str, monitoring_type: str) -> str:
    """The category of one household (for rows of ``registry.counts``); ``category_q`` is its twin in SQL."""
    if household_type == HouseholdType.EXITED:
        return exited_class or "exited_unclassified"
    if monitoring_type in _OWN_CATEGORY:
        return monitoring_type
    return "general"


def at_risk_q() -> Q:
    """监测对象 whose risk is not eliminated (the dashboard's 监测对象 figure): a monitoring-object type, and a state
    other than 风险已消除."""
    return ~Q(monitoring_type="") & ~Q(monitoring_state=MonitoringState.ELIMINATED)


def below_line_q(region_code: str, lines: tuple | None = None) -> Q:
    """Households whose 年人均纯收入 is below the monitoring line in force for their village (nearest ancestor's
    value), over the subtree of ``region_code``; bounded by the highest line there, so that only the low end of the
    income index is read. A household without members (no income) is not below the line. ``lines``: what
    ``policy.selectors.monitoring_line_expression(region_code)`` returned, when the caller has it already."""
    line_expr, _line, highest = lines or monitoring_line_expression(region_code)
    q = Q(per_capita_income__lt=highest)
    if not isinstance(line_expr, Value):
        q &= Q(per_capita_income__lt=line_expr)
    return q


def needs_helper_q(prefix: str = "") -> Q:
    """Households that must have a 帮扶责任人 or 联系人: every exited household (plan 四(一)3: 脱贫户 always have a
    responsible person) and every 监测对象 whose risk is not eliminated (plan 四(二)2: contacts of the marginal
    households). ``prefix``: the path to the household from another model (``household__``)."""
    return Q(**{f"{prefix}household_type": HouseholdType.EXITED}) | (
        ~Q(**{f"{prefix}monitoring_type": ""})
        & ~Q(**{f"{prefix}monitoring_state": MonitoringState.ELIMINATED})
    )


def helped_by_q(helper_pk: int) -> Q:
    """Households whose current 帮扶责任人/联系人 is user ``helper_pk`` (``helper_current_idx``)."""
    return Q(
        Exists(
            HelperAssignment.objects.filter(
                household=OuterRef("pk"), helper_id=helper_pk, ended_on__isnull=True
            )
        )
    )


def without_helper_q() -> Q:
    """Households that need a 帮扶责任人/联系人 and have none in office."""
    current = HelperAssignment.objects.filter(
        household=OuterRef("pk"), ended_on__isnull=True, helper__is_active=True
    )
    return needs_helper_q() & ~Q(Exists(current))


def category_q(key: str) -> Q:
    """The households of one category, as a condition on the counted columns (households and their counts)."""
    if key in _EXITED_CLASSES:
        return Q(household_type=HouseholdType.EXITED, exited_class=key)
    if key == "exited_unclassified":
        return Q(household_type=HouseholdType.EXITED, exited_class="")
    if key in _OWN_CATEGORY:
        return ~Q(household_type=HouseholdType.EXITED) & Q(monitoring_type=key)
    if key == "general":
        return ~Q(household_type=HouseholdType.EXITED) & ~Q(monitoring_type__in=_OWN_CATEGORY)
    raise ValueError(key)


def suggestion_differs(household_type: str, exited_class: str, monitoring_type: str, suggestion: str) -> bool:
    """The Python twin of ``suggestion_differs_q``, for rows of ``registry.counts``."""
    if household_type == HouseholdType.EXITED and suggestion in _EXITED_CLASSES:
        return suggestion != exited_class
    if suggestion == Suggestion.MARGINAL:
        return monitoring_type != MonitoringType.MARGINAL
    if suggestion == Suggestion.SUDDEN:
        return monitoring_type != MonitoringType.SUDDEN
    return False


def _get(params, name: str) -> str:
    value = params.get(name, "")
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return str(value or "").strip()


def _area(params) -> str:
    """The ``area`` parameter when it is a 12-digit code of a town or more, else ""."""
    place = _get(params, "area")
    return place if _VILLAGE.match(place) and level_of(place) < Level.VILLAGE else ""


def _prefix(field: str, text: str) -> dict:
    return {f"{field}__gte": text, f"{field}__lt": text + _TOP}


def _matching(members, broad: bool, **lookup):
    """Households with an active member matching ``lookup`` (the head is a member too).

    A short search term (a surname, two initials) matches many people of a county: probing each listed
    household's members (EXISTS, by the household index) is then cheaper than collecting every matching person, as
    long as the listing stops after a page. A longer term, or any term within a town or a village, matches few
    people, and a count must see every household anyway: their households are then looked up from the name index
    (IN), which holds each member's village, so that only the area's matches are looked up."""
    if broad:
        return Exists(members.filter(household_id=OuterRef("pk"), **lookup))
    return Q(pk__in=members.filter(**lookup).values("household_id"))


def broad_search(q: str) -> bool:
    """Whether ``q`` matches many people of a county (see ``_matching``)."""
    if not q or _LAST4.match(q) or number_search(q) is not None:
        return False
    if _INITIALS.match(q):
        return len(q) <= 2
    return len(q) <= 1


def _large(user) -> bool:
    """A jurisdiction of a county or more (a town's list is small enough to be read whole)."""
    return user.region_id is None or level_of(user.region_id) <= Level.COUNTY


def probes(user, cleaned: dict) -> bool:
    """Whether the list of ``user`` filtered by ``cleaned`` probes households one by one for its search (a broad
    search over a county or more, or the beginning of a 户编号 no longer than a town's code): such a list does not
    count its matches itself; the page loads the exact total afterwards (``selectors.list_page``)."""
    q = cleaned.get("q", "")
    return (broad_search(q) and _large(user) and not cleaned.get("village")) or _broad_number(q)


def number_search(q: str) -> tuple[str, str | None] | None:
    """For a search of five or more digits: (the 户编号 prefix it stands for, the blind index of the ID number it
    is, or None when it is not a valid one). None for any other search."""
    digits = normalize_id(q)
    if not _DIGITS.match(digits):
        return None
    try:
        index = id_index(parse_id(digits).id18)
    except IdNumberError:
        index = None
    return digits, index


# A 户编号 prefix (or a whole ID number) that begins at most a thousand 户编号 — a village's code, a village's code and
# more — is counted first in the 户编号 index (up to a thousand and one), and its households are read from there and
# sorted; a prefix that begins more walks the list's (village, 户编号) order and stops after the page. A prefix no
# longer than a town's code (9 digits) matches thousands: its list shows the page and loads the total afterwards
# (``probes``); any other counts its matches in the page's own query.
_FEW_NUMBERS = 1000
_TOWN_DIGITS = 9
_COUNTY_DIGITS = (
    6  # a prefix no longer than a county's code matches the county whole: counted by the region index
)


class _Unsorted(Func):
    """A column as an ORDER BY term that no index delivers (the same values in the same order): a few households
    read from the 户编号 index are then sorted, where PostgreSQL would rather walk a list index in order and test
    each of a county's households (250 000 rows for 700, 87 ms; sorted 0.8 ms). SQLite: unary ``+``; PostgreSQL:
    ``|| ''`` or ``+ 0``."""

    def __init__(self, expression, *, text: bool):
        super().__init__(expression)
        self.template = "(%(expressions)s || '')" if text else "(%(expressions)s + 0)"

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


def _broad_number(q: str) -> bool:
    found = number_search(q)
    return found is not None and found[1] is None and len(found[0]) <= _TOWN_DIGITS


def few_numbers(prefix: str) -> bool:
    """Whether at most ``_FEW_NUMBERS`` 户编号 begin with ``prefix`` (any jurisdiction; one probe of the 户编号
    index)."""
    # Unscoped: one probe of the 户编号 index that only chooses a plan; no row reaches the user.
    matching = Household.objects.unscoped().filter(**_prefix("number", prefix)).order_by()
    return not matching[_FEW_NUMBERS : _FEW_NUMBERS + 1].exists()


def _number_match(qs, q: str, members, area, for_count: bool, few: bool | None):
    """``qs`` limited to the households whose 户编号 begins with the digits of ``q`` or (a whole ID number) with an
    active member of that number in ``area``. ``few``: ``few_numbers`` of those digits, when already known."""
    prefix, index = number_search(q)
    if few is None:
        few = few_numbers(prefix)
    if few:
        if index is not None:
            # A whole ID number: its member's households, and any 户编号 so long (none, surely).
            # Unscoped ids only narrow ``qs``, the user's scoped list.
            numbered = (
                Household.objects.unscoped().filter(**_prefix("number", prefix)).values_list("pk", flat=True)
            )
            homes = _in_area(members, area).filter(id_index=index).values_list("household_id", flat=True)
            return qs.filter(pk__in=[*numbered, *homes])
        return qs.filter(**_prefix("number", prefix))  # from the 户编号 index, sorted afterwards
    if for_count and len(prefix) > _COUNTY_DIGITS:
        # Every match is read anyway: from the 户编号 index (see household_list).
        return qs.filter(**_prefix("number", prefix))
    # SQLite: walk the list's order, not the 户编号 index (and then sort thousands).
    number = Unindexed(F("number"))
    return qs.filter(GreaterThanOrEqual(number, prefix), LessThan(number, prefix + _TOP))


def _member_lookup(q: str) -> dict:
    if _LAST4.match(q):
        return {"id_last4": q.upper()}
    if _INITIALS.match(q):
        return _prefix("name_initials", q.lower())
    return _prefix("name", q)


def mark_matches(rows, q: str, *, most: int = 3) -> None:
    """Set ``row.matched`` on each listed household: the members other than the head whom the search ``q`` found
    ("邓丹瑶（之儿媳）"), so that a row listed under its head's name says why it is there. Nothing for a 户编号
    search. One query over the page's households (≤ 50, a few hundred members), matched here."""
    for row in rows:
        row.matched = ""
    if not q or not rows:
        return
    found = number_search(q)
    if found is not None and found[1] is None:
        return  # a 户编号: the household itself matched
    if found is not None:
        field, wanted, prefix = "id_index", found[1], False  # a whole ID number
    elif _LAST4.match(q):
        field, wanted, prefix = "id_last4", q.upper(), False
    elif _INITIALS.match(q):
        field, wanted, prefix = "name_initials", q.lower(), True
    else:
        field, wanted, prefix = "name", q, True

    def hit(member) -> bool:
        value = getattr(member, field)
        return value.startswith(wanted) if prefix else value == wanted

    members = (
        # Unscoped: the members of households just read from the user's scoped list.
        Member.objects.unscoped()
        .filter(status=Member.Status.ACTIVE, household_id__in=[row.pk for row in rows], is_head=False)
        .only("household_id", "name", "relation", "name_initials", "id_last4", "id_index")
        .order_by("household_id", "pk")
    )
    by_household: dict[int, list[str]] = {}
    for m in members:
        if hit(m):
            by_household.setdefault(m.household_id, []).append(f"{m.name}（{m.relation}）")
    for row in rows:
        names = by_household.get(row.pk, [])
        row.matched = "、".join(names[:most]) + (f" 等 {len(names)} 人" if len(names) > most else "")


def _in_area(members, area):
    """Members whose household lies in ``area``: a village code, or a code range ``(lo, hi)``."""
    if area is None:
        return members
    if isinstance(area, str):
        return members.filter(household_region=area)
    return members.filter(household_region__gte=area[0], household_region__lt=area[1])


def household_search(
    qs, q: str, *, for_count: bool = False, area=None, probe: bool = True, few: bool | None = None
):
    """Households matching ``q`` (see the module docstring); ``for_count`` when every match will be read; ``area``
    the village or code range the list is limited to (the members are picked by it from the name index);
    ``probe=False`` when the list covers a town or less; ``few`` the ``few_numbers`` of a 户编号 search, when
    already looked up."""
    # Unscoped: the matches only narrow ``qs`` (the user's scoped list) and are picked by ``area``.
    members = Member.objects.unscoped().filter(status=Member.Status.ACTIVE)
    if number_search(q) is not None:
        return _number_match(qs, q, members, area, for_count, few)
    broad = broad_search(q) and probe and not for_count
    if not broad:  # a probe is made for a listed household, already inside the area
        members = _in_area(members, area)
    return qs.filter(_matching(members, broad, **_member_lookup(q)))


def search_members(user, cleaned: dict, action: str = "household.view"):
    """For a list whose only filters are a search and perhaps a village: the matching members of the user's
    jurisdiction, those of cancelled households left out — their distinct households are the list's rows, counted
    from the name index alone (``wj`` in a county: 11 600 members, no household looked up). None for any other list
    (its other filters are columns of the household)."""
    q = cleaned.get("q", "")
    if not q or set(cleaned) - {"q", "village", "sort"} or number_search(q) is not None:
        return None  # other filters, or a 户编号 (a column of the household)
    span = jurisdiction_span(user, action)
    if span is None:
        return Member.objects.none()
    village = cleaned.get("village")
    area = village if village else span
    # Cancelled households are few: read from an index led by ``cancelled`` (SQLite, without statistics on how
    # few, would take the region index and read every household of a county: 18 ms instead of 4).
    region = Unindexed(F("region_id"))
    # Unscoped, narrowed by hand: the range written so that SQLite takes the ``cancelled`` index (above); the
    # members below are limited to the user's span the same way.
    cancelled = (
        Household.objects.unscoped()
        .filter(cancelled=True)
        .filter(
            Q(Exact(region, village))
            if village
            else Q(GreaterThanOrEqual(region, span[0]), LessThan(region, span[1]))
        )
    )
    members = _in_area(
        Member.objects.unscoped().filter(status=Member.Status.ACTIVE, **_member_lookup(q)), area
    )
    if village:
        members = _in_area(members, span)  # a village outside the jurisdiction finds nothing
    return members.exclude(household_id__in=cancelled.values("pk"))


def sort_of(params) -> str:
    """The list's sort key as applied (``-`` for descending); unknown keys give the default."""
    sort = _get(params, "sort")
    return sort if sort.lstrip("-") in SORT_KEYS else DEFAULT_SORT


def household_list(user, params, *, for_count: bool = False, action: str = "household.view") -> tuple:
    """The household list of ``user``: the jurisdiction, then ``household_filter``; ``for_count`` for a query
    that will only be counted. Returns (queryset, applied values)."""
    large = _large(user)
    # Sorted by income or size over a county or more: SQLite must read the index in that order (and check the
    # jurisdiction in it), not the county's region range sorted afterwards.
    by_ordered_index = sort_of(params).lstrip("-") in ("per_capita_income", "size")
    # Households found by 户编号 or ID number: a few are read from the 户编号 index, and a count reads it too (the
    # region index would walk a county) unless the digits are no more than a county's code (6), which match it all.
    found = number_search(_get(params, "q")[:50])
    few = few_numbers(found[0]) if found else None
    by_id = found is not None and (few or (for_count and len(found[0]) > _COUNTY_DIGITS))
    # Counting those below the monitoring line of a county: the few at the low end of the income index, not the
    # county's region range (≈ 35 → 5 ms for 250 000 households, as the dashboard counts them).
    by_income = large and for_count and _get(params, "below_line") == "1"
    # A town of a county (``area``): SQLite must walk the town's range of the region index, not the county's from
    # its start checking the town's bounds on each row (town 4 of 20, marginal households by 户编号: 11 → 0.4 ms).
    by_area = bool(_area(params))
    base = Household.objects.for_user(
        user,
        action,
        region_index=not ((large and by_ordered_index and not for_count) or by_id or by_income or by_area),
    )
    return household_filter(
        base,
        params,
        for_count=for_count,
        area=jurisdiction_span(user, action),
        probe=large,
        few=few,
        line_region=user.region_id or "",
    )


def household_filter(
    qs,
    params,
    *,
    for_count: bool = False,
    area=None,
    probe: bool = True,
    few: bool | None = None,
    line_region: str = "",
) -> tuple:
    """Apply the list's filters, search and sort to ``qs``; returns (queryset, applied values). ``area`` is the
    jurisdiction's code range (the search picks members by it); ``probe=False`` for a list of a town or less;
    ``line_region``: the region whose monitoring lines (its own and its subtree's) ``below_line`` compares with —
    the user's; without it that filter is not applied."""
    cleaned: dict[str, str] = {}
    village = _get(params, "village")
    if _VILLAGE.match(village):
        qs = qs.filter(region_id=village)
        cleaned["village"] = village
        area, probe = village, False
    place = _area(params)
    if place:
        lo, hi = code_range(place)
        qs = qs.filter(region_id__gte=lo, region_id__lt=hi)  # inside the jurisdiction already: only narrower
        cleaned["area"] = place
    for name, allowed in CHOICE_FILTERS.items():
        value = _get(params, name)
        if value in allowed:
            qs = qs.filter(**{name: "" if value == "none" else value})
            cleaned[name] = value
    category = _get(params, "category")
    if category in CATEGORY_LABELS:
        qs = qs.filter(category_q(category))
        cleaned["category"] = category
    if _get(params, "at_risk") == "1":
        qs = qs.filter(at_risk_q())
        cleaned["at_risk"] = "1"
    if _get(params, "below_line") == "1" and line_region:
        qs = qs.filter(below_line_q(line_region))
        cleaned["below_line"] = "1"
    if _get(params, "differs") == "1":
        qs = qs.filter(suggestion_differs_q())
        cleaned["differs"] = "1"
    helper = _get(params, "helper")
    if helper.isascii() and helper.isdigit() and len(helper) < 10:
        qs = qs.filter(helped_by_q(int(helper)))
        cleaned["helper"] = str(int(helper))
    if _get(params, "needs_helper") == "1":
        qs = qs.filter(needs_helper_q())
        cleaned["needs_helper"] = "1"
    if _get(params, "no_helper") == "1":
        qs = qs.filter(without_helper_q())
        cleaned["no_helper"] = "1"
    if _get(params, "cancelled") == "1":
        qs = qs.filter(cancelled=True)
        cleaned["cancelled"] = "1"
    else:
        qs = qs.filter(cancelled=False)
    q = _get(params, "q")[:50]
    found = number_search(q) if q else None
    if found is not None and few is None:
        few = few_numbers(found[0])
    by_id = found is not None and few  # a few households, read by 户编号 (or id) and sorted
    if q:
        qs = household_search(qs, q, for_count=for_count, area=area, probe=probe, few=few)
        cleaned["q"] = q
    sort = sort_of(params)
    key = sort.lstrip("-")
    descending = sort.startswith("-")

    def column(name: str, text: bool = False):
        return _Unsorted(F(name), text=text) if by_id else F(name)

    if key == "per_capita_income":  # NULL (no member) last either way, on both databases
        income = column(key)
        qs = qs.order_by(income.desc(nulls_last=True) if descending else income.asc(nulls_last=True), "pk")
    elif key == "number":
        # 户编号 begins with the village code; ordering by (village, 户编号) reads the (region, number) index in
        # order, so a page of a county is found without sorting 250 000 rows.
        order = [column("region_id", text=True), column("number", text=True)]
        qs = qs.order_by(*[o.desc() if descending else o.asc() for o in order], "-pk" if descending else "pk")
    else:
        size = column(key)
        qs = qs.order_by(size.desc() if descending else size.asc(), "-pk" if descending else "pk")
    cleaned["sort"] = sort
    return qs, cleaned


# --- the search text, kept out of addresses ---------------------------------------------------------------------
# A search is a name, pinyin initials or the last digits of an ID number: personal data that must not stand in an
# address (the browser's history, the server's access log, a link passed on). The search box is posted; the text is
# kept in the user's session under a short random token, and addresses carry ``s=<token>`` instead.

_SEARCHES = "registry.searches"
_KEEP_SEARCHES = 20
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{6,16}$")


def remember_search(session, q: str) -> str:
    """The token under which ``q`` is kept in ``session`` (the same text keeps its token)."""
    import secrets

    kept: dict[str, str] = dict(session.get(_SEARCHES) or {})
    for token, text in kept.items():
        if text == q:
            return token
    token = secrets.token_urlsafe(6)
    kept[token] = q
    session[_SEARCHES] = dict(list(kept.items())[-_KEEP_SEARCHES:])
    return token


def recall_search(session, token: str) -> str | None:
    if not _TOKEN.match(token or ""):
        return None
    return (session.get(_SEARCHES) or {}).get(token)


def list_params(request, source=None):
    """The list's parameters for ``request``: its query (or ``source``), with the search text recalled from the
    session for ``s=<token>`` (an unknown token — another browser, an expired session — searches nothing)."""
    params = (source if source is not None else request.GET).copy()
    token = params.pop("s", [""])[-1]
    params.pop("q", None)
    q = recall_search(request.session, token) if token else None
    if q:
        params["q"] = q
    return params


def address_params(request, params) -> tuple:
    """``params`` for an address: the search text replaced by its token. Returns (QueryDict, whether it held a
    search)."""
    out = params.copy()
    out.pop("csrfmiddlewaretoken", None)
    q = (out.pop("q", [""])[-1] or "").strip()[:50]
    out.pop("s", None)
    if q:
        out["s"] = remember_search(request.session, q)
    return out, bool(q)
