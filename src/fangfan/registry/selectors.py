"""Reads of the registry that need scoping or care at scale: the household list page (each page counted the
cheapest exact way, ``list_page``), the household page (members, composition changes, change history from the audit log)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, transaction
from django.db.models import BooleanField, Case, Count, Q, Value, When, Window
from django.http import QueryDict

from fangfan.accounts.roles import Role
from fangfan.core.audit_labels import ACTION_LABELS
from fangfan.core.masking import mask_phone
from fangfan.core.models import AuditEvent
from fangfan.policy.selectors import plain
from fangfan.policy.services import policy_values
from fangfan.regions.codes import code_range
from fangfan.regions.models import Region

from .choices import ExitedClass, HouseholdType, HousingGrade, MonitoringState, MonitoringType, Suggestion
from .counts import count_total
from .filters import (
    at_risk_q,
    category_q,
    household_list,
    needs_helper_q,
    probes,
    search_members,
    suggestion_differs_q,
    without_helper_q,
)
from .models import (
    COUNT_KEYS,
    CompositionChange,
    HelperAssignment,
    Household,
    Member,
)

PAGE_SIZE = 50

LIST_COLUMNS = [
    "id",
    "number",
    "region_id",
    "head_name",
    "household_type",
    "exited_class",
    "monitoring_type",
    "monitoring_state",
    "size",
    "per_capita_income",
    "suggestion",
    "cancelled",
]


# --- the list -------------------------------------------------------------------------------------------------


def village_names(user) -> dict[str, str]:
    """Villages in the user's jurisdiction, code → name, for the filter dropdown and the table's 村 column."""
    return dict(
        Region.objects.for_user(user, "region.view")
        .filter(level=5)
        .order_by("code")
        .values_list("code", "name")
    )


@dataclass
class HouseholdPage:
    """One page of the household list. ``count`` is exact when ``capped`` is False; otherwise it is a floor and
    the exact total is fetched separately (``household_count``)."""

    rows: list
    number: int
    per_page: int
    has_next: bool
    count: int
    capped: bool
    start_index: int = 0
    end_index: int = 0
    page_numbers: list = field(default_factory=list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def num_pages(self) -> int | None:
        if self.capped:
            return None
        return max(1, -(-self.count // self.per_page))


def _page_number(raw) -> int:
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return max(1, min(number, 1_000_000))


# Filters on what the kept counts do not hold (income against each village's line, the 帮扶责任人): such a list's
# total counts its households.
UNCOUNTED_FILTERS = ("below_line", "helper", "no_helper", "needs_helper")


def list_page(user, qs, cleaned: dict, *, page=1, per_page: int = PAGE_SIZE) -> HouseholdPage:
    """The household list's page for ``filters.household_list``'s (qs, cleaned), counted the cheapest exact way:

    - no search: the total comes from the kept counts (``registry.counts``: ≈ 1 ms for a county and exact after
      any write; counting the rows of one monitoring type read the county's index, 12 ms);
    - a search alone in 户编号 order (any search of a town or village, a longer one of a county): the matching
      members' villages and households, read from the name index, give the exact total and the villages the page
      falls in (``_member_led_page``);
    - any other search of two or more characters: its matches are all looked up from the name index and sorted
      anyway, so the page's own query counts them (``COUNT(*) OVER ()``: one pass instead of two);
    - a broad search over a county or more (``filters.probes``) probes households in list order and stops after
      the page: the page shows a floor and the exact total is loaded afterwards (``household_count``). On
      PostgreSQL that page is planned without parallel workers (``serial_plan``)."""
    q = cleaned.get("q", "")
    if not q and any(cleaned.get(k) for k in UNCOUNTED_FILTERS):
        # income and the helpers are no counted columns: the few households such a list holds, counted
        return household_page(
            qs,
            page=page,
            per_page=per_page,
            total=lambda: household_list(user, cleaned, for_count=True)[0].count(),
        )
    if not q:
        return household_page(qs, page=page, per_page=per_page, total=lambda: _counted_total(user, cleaned))
    if probes(user, cleaned):
        with serial_plan():
            return household_page(qs, page=page, per_page=per_page)
    led = _member_led_page(user, qs, cleaned, page=page, per_page=per_page)
    if led is not None:
        return led
    return household_page(qs, page=page, per_page=per_page, count_in_page=True)


def _member_led_page(user, qs, cleaned: dict, *, page, per_page: int) -> HouseholdPage | None:
    """A search alone (perhaps in one village) in 户编号 order: its matching members' villages and households come
    from the name index (``filters.search_members``), which gives the exact total, and — since the list is in
    village order — which villages the page falls in; only those villages' matching households are read (county
    “王建”: ≈ 60 instead of ≈ 1 500 household lookups). None for any other list."""
    if cleaned.get("sort", "number") not in ("number", "-number"):
        return None
    members = search_members(user, cleaned)
    if members is None:
        return None
    villages: dict[str, set[int]] = {}
    for village, household in members.values_list("household_region", "household_id"):
        villages.setdefault(village, set()).add(household)
    total = sum(map(len, villages.values()))
    number = _page_number(page)
    if number > 1 and (number - 1) * per_page >= total:  # a stale link past the end: the last page
        number = max(1, -(-total // per_page))
    wanted = number * per_page + 1  # the rows up to this page, and one more (is there a next page?)
    picked: list[int] = []
    for village in sorted(villages, reverse=cleaned.get("sort") == "-number"):
        picked.extend(villages[village])
        if len(picked) >= wanted:
            break
    return household_page(qs.filter(pk__in=picked), page=number, per_page=per_page, total=lambda: total)


@contextmanager
def serial_plan():
    """PostgreSQL: plan the statements inside without parallel workers. For a query that stops after a page
    (``LIMIT``) the planner may choose a parallel plan whose workers take longer to start than the whole query takes
    without them (a county's broad search: Gather Merge 14–18 ms, the plain plan 4 ms). Server-wide the setting
    stays as it is: other queries (the search's exact total) are faster in parallel. SQLite: nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    outer = connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            # SET LOCAL ends with the transaction, and a savepoint rolled back takes it back too.
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield
        if outer:  # a caller's transaction goes on: the setting must not outlive this block
            with connection.cursor() as cursor:
                cursor.execute("RESET max_parallel_workers_per_gather")


def household_page(
    qs,
    *,
    page=1,
    per_page: int = PAGE_SIZE,
    total: Callable[[], int] | None = None,
    count_in_page: bool = False,
) -> HouseholdPage:
    """Rows of one page (``per_page + 1`` rows tell whether a next page exists) and how many rows ``qs`` holds:
    ``total()`` when given (the exact number, found some cheaper way); with ``count_in_page`` the page's own query
    counts every row (``COUNT(*) OVER ()``); otherwise the page knows only a floor (``capped``: the rows up to
    here, plus one if there is a next page) and the exact total is fetched separately. A page past the end (a stale
    link) shows the last page when ``total`` is given, else the first. A later page is read in two statements: its
    ids (sorted and skipped with nothing else beside them), then its rows by id."""
    number = _page_number(page)
    shown = qs.only(*LIST_COLUMNS).annotate(
        suggestion_differs=Case(
            When(suggestion_differs_q(), then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    )
    listed = shown.annotate(matches=Window(Count("pk"))) if count_in_page else shown

    def rows_of(n: int) -> list:
        offset = (n - 1) * per_page
        if offset == 0:
            return list(listed[: per_page + 1])
        # A later page: its ids first, sorted with nothing else beside them, then its rows by id. Sorting a town's
        # 12 500 households by income to skip 10 000 carried every listed column through the sort (page 200:
        # SQLite 23 -> 16 ms, PostgreSQL 33 -> 27 ms; a county by descending income 21 -> 8 ms and 18 -> 9 ms).
        end = offset + per_page + 1
        if count_in_page:
            picked = list(qs.annotate(matches=Window(Count("pk"))).values_list("pk", "matches")[offset:end])
        else:
            picked = [(pk, None) for pk in qs.values_list("pk", flat=True)[offset:end]]
        by_pk = {row.pk: row for row in shown.order_by().filter(pk__in=[pk for pk, _ in picked])}
        rows = []
        for pk, matches in picked:
            row = by_pk.get(pk)
            if row is not None:  # (gone between the two statements)
                row.matches = matches
                rows.append(row)
        return rows

    rows = rows_of(number)
    known = total() if total is not None and (number > 1 or len(rows) > per_page) else None
    if not rows and number > 1:
        number = max(1, -(-known // per_page)) if known is not None else 1
        rows = rows_of(number)
    if number == 1 and len(rows) <= per_page:
        count, capped = len(rows), False
    elif known is not None:
        count, capped = known, False
    elif count_in_page and rows:
        count, capped = rows[0].matches, False
    else:
        count, capped = (number - 1) * per_page + len(rows), True
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    result = HouseholdPage(
        rows=rows, number=number, per_page=per_page, has_next=has_next, count=count, capped=capped
    )
    result.start_index = (number - 1) * per_page + 1 if rows else 0
    result.end_index = (number - 1) * per_page + len(rows)
    result.page_numbers = _page_window(number, result.num_pages)
    return result


def _page_window(number: int, num_pages: int | None) -> list[int | None]:
    """Page links around the current page: 1 … 4 5 [6] 7 8 … 20 (None marks a gap)."""
    last = num_pages or number + 2
    wanted = {1, last, *range(number - 2, number + 3)} if num_pages else {1, *range(number - 2, number + 3)}
    pages = sorted(p for p in wanted if 1 <= p <= last)
    window: list[int | None] = []
    for p in pages:
        if window and p - window[-1] > 1:
            window.append(None)
        window.append(p)
    return window


def household_count(qs, *, user, params: dict) -> int:
    """The exact number of households a filtered list holds. ``params`` are the cleaned filters.

    Without a search the filters are all counted columns of ``registry.counts``: the total is summed from there
    (a few ms for a county, and exact right after any write). A search alone (perhaps in one village) counts the
    distinct households of the matching members from the name index, which holds each member's village
    (``filters.search_members``: ``wj`` in a county, 11 600 members, no household looked up). A search with other
    filters counts ``qs``, built with ``filters.household_list(…, for_count=True)`` so that the matching members
    are looked up once from the name index. Nothing is cached, so a total never lags behind an edit.

    The distinct households are counted with ``COUNT(DISTINCT …)``, not ``COUNT(*)`` over a ``DISTINCT`` subquery:
    PostgreSQL then sorts the 11 600 ids inside the aggregate instead of hashing them first (county "wj" 4.4 →
    3.2 ms, median of 200 alternating runs); SQLite uses a temporary b-tree either way (4.1 ms both)."""
    if not params.get("q") and not any(params.get(k) for k in UNCOUNTED_FILTERS):
        return _counted_total(user, params)
    members = search_members(user, params)
    if members is not None:
        return members.aggregate(n=Count("household_id", distinct=True))["n"]
    return qs.order_by().count()


def _counted_total(user, params: dict) -> int:
    filters = {
        name: ("" if value == "none" else value)
        for name, value in params.items()
        if name in COUNT_KEYS and name != "cancelled"
    }
    if params.get("village"):
        filters["region_code"] = params["village"]
    where = Q()
    if params.get("area"):
        lo, hi = code_range(params["area"])
        where &= Q(region_code__gte=lo, region_code__lt=hi)
    if params.get("category"):
        where &= category_q(params["category"])
    if params.get("at_risk") == "1":
        where &= at_risk_q()
    if params.get("differs") == "1":
        where &= suggestion_differs_q()
    return count_total(
        user, "household.view", cancelled=params.get("cancelled") == "1", where=where or None, **filters
    )


def query_without(params: QueryDict, *names: str) -> str:
    """The query string without ``names`` and without empty values (a submitted filter form sends them all)."""
    query = QueryDict(mutable=True)
    for key, values in params.lists():
        kept = [v for v in values if v != ""]
        if key not in names and kept:
            query.setlist(key, kept)
    return query.urlencode()


# --- the household page ----------------------------------------------------------------------------------------

# The registry's actions on a household's timeline, named as on the audit page (``core.audit_labels``).
AUDIT_ACTIONS = {
    code: label for code, label in ACTION_LABELS.items() if code.startswith(("household.", "member."))
}
# Keys in before/after that are not model fields.
EXTRA_LABELS = {
    "reason": "原因",
    "date": "日期",
    "new_head": "新户主证件号",
    "old_head": "原户主证件号",
    "new_household": "新户编号",
    "members": "分出人数",
    "merged_from": "并入的原户",
    "split_from": "分自原户",
    "note": "说明",
    "helper": "帮扶责任人/联系人",
    "way": "联系方式",
    "risk_found": "发现返贫致贫风险",
    "source": "来源",
    "job": "导入任务",
}
_CHOICE_LABELS: dict[str, dict[str, str]] = {
    "household_type": dict(HouseholdType.choices),
    "exited_class": dict(ExitedClass.choices),
    "monitoring_type": dict(MonitoringType.choices),
    "monitoring_state": dict(MonitoringState.choices),
    "suggestion": dict(Suggestion.choices),
    "housing_grade": dict(HousingGrade.choices),
    "status": dict(Member.Status.choices),
}


def tri_state(value: bool | None) -> str:
    return "未核实" if value is None else ("是" if value else "否")


def _field_label(model, key: str) -> str:
    try:
        return str(model._meta.get_field(key).verbose_name)
    except FieldDoesNotExist:
        return EXTRA_LABELS.get(key, key)


def _display(model, key: str, value) -> str:
    if value is None:
        try:
            is_bool = model._meta.get_field(key).get_internal_type() == "BooleanField"
        except FieldDoesNotExist:
            is_bool = False
        return "未核实" if is_bool else "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if _is_money(model, key):
        try:
            return f"{Decimal(str(value)):,.2f}"
        except (ArithmeticError, ValueError):
            return str(value)
    if key in _CHOICE_LABELS and value in _CHOICE_LABELS[key]:
        return _CHOICE_LABELS[key][value]
    if value == "":
        return "（空）"
    return str(value)


def _is_money(model, key: str) -> bool:
    try:
        return model._meta.get_field(key).get_internal_type() == "DecimalField"
    except FieldDoesNotExist:
        return False


@dataclass
class HistoryEntry:
    at: object
    actor: str
    role: str
    action: str
    subject: str
    changes: list[tuple[str, str, str]]
    note: str


def household_history(household: Household, members: list[Member], *, limit: int = 200) -> list[HistoryEntry]:
    """Audit events about the household and its members (present and past), newest first, with the changed
    fields in Chinese. Values were masked when recorded, so names and ID numbers show as ***."""
    member_label = {str(m.pk): m.id_masked for m in members}
    events = AuditEvent.objects.filter(
        Q(object_type="registry.household", object_id=str(household.pk))
        | Q(object_type="registry.member", object_id__in=list(member_label))
    ).order_by("-id")[:limit]
    role_labels = dict(Role.choices)
    entries = []
    for event in events:
        model = Member if event.object_type == "registry.member" else Household
        before, after = event.before or {}, event.after or {}
        keys = list(dict.fromkeys([*before, *after]))
        changes = [
            (
                _field_label(model, key),
                _display(model, key, before.get(key)) if key in before else "",
                _display(model, key, after.get(key)) if key in after else "",
            )
            for key in keys
        ]
        subject = f"成员 {member_label.get(event.object_id, '')}" if model is Member else "本户"
        entries.append(
            HistoryEntry(
                at=event.at,
                actor=event.actor_username,
                role=str(role_labels.get(event.actor_role, event.actor_role)),
                action=AUDIT_ACTIONS.get(event.action, event.action),
                subject=subject,
                changes=changes,
                note=event.note,
            )
        )
    return entries


@dataclass
class IncomeLine:
    label: str
    amount: Decimal
    sign: str


def income_lines(household: Household) -> list[IncomeLine]:
    return [
        IncomeLine("工资性收入", household.wage_income, "+"),
        IncomeLine("生产经营性收入", household.business_income, "+"),
        IncomeLine("生产经营性支出", household.business_expense, "−"),
        IncomeLine("财产性收入", household.property_income, "+"),
        IncomeLine("转移性收入", household.transfer_income, "+"),
    ]


def indicator_rows(household: Household) -> list[tuple[str, bool | None, str]]:
    """两不愁三保障 and drinking water, each 是 / 否 / 未核实 with a short note."""
    grade = household.housing_grade
    housing = None if not grade else grade in ("A", "B")
    return [
        ("吃穿不愁", household.food_clothing_secure, ""),
        ("义务教育有保障", household.education_secure, "由成员在校情况计算"),
        ("基本医疗有保障", household.medical_secure, "由成员参保情况计算"),
        ("住房安全有保障", housing, household.get_housing_grade_display() if grade else "未鉴定"),
        ("饮水安全有保障", household.water_safe, ""),
    ]


def is_last_member(member: Member) -> bool:
    """Whether ``member`` is the only active member of its household (removing them cancels the household)."""
    # Unscoped: the household of ``member``, which the caller read under the user's scope.
    others = Member.objects.unscoped().filter(household_id=member.household_id, status=Member.Status.ACTIVE)
    return not others.exclude(pk=member.pk).exists()


def household_members(household: Household) -> tuple[list[Member], list[Member]]:
    """(active members, removed members); the encrypted ID and phone are not decrypted for display."""
    members = list(
        household.members.all().defer("id_number", "phone").order_by("-is_head", "birth_date", "pk")
    )
    today = date.today()
    for m in members:
        m.age = (
            today.year
            - m.birth_date.year
            - ((today.month, today.day) < (m.birth_date.month, m.birth_date.day))
        )
    active = [m for m in members if m.status == Member.Status.ACTIVE]
    removed = [m for m in members if m.status != Member.Status.ACTIVE]
    return active, removed


def household_changes(household: Household, user) -> list[CompositionChange]:
    """The household's composition changes, newest first; each with ``related`` — the other household of a split,
    a merge or a move — and ``related_visible``, whether ``user`` may open it (then the page links to it)."""
    changes = list(
        # Unscoped: the changes of ``household`` (read under the user's scope) — both sides of a split, merge or
        # move; whether the other household may be opened is ``related_visible``, checked below.
        CompositionChange.objects.unscoped()
        .filter(Q(household=household) | Q(other_household=household))
        .select_related("member", "household", "other_household", "actor")
        .defer("member__id_number", "member__phone", "household__phone", "other_household__phone")
        .order_by("-date", "-id")[:100]
    )
    for c in changes:
        c.related = c.household if c.household_id != household.pk else c.other_household
    related = {c.related.pk for c in changes if c.related is not None}
    visible = set(
        Household.objects.for_user(user, "household.view").filter(pk__in=related).values_list("pk", flat=True)
    )
    for c in changes:
        c.related_visible = c.related is not None and c.related.pk in visible
    return changes


def merged_into(household: Household, changes: list[CompositionChange]) -> CompositionChange | None:
    """For a household cancelled by a merge: the change that moved its members (``related`` is where they went)."""
    if not household.cancelled:
        return None
    return next(
        (
            c
            for c in changes
            if c.kind == CompositionChange.Kind.MERGE and c.other_household_id == household.pk
        ),
        None,
    )


def merge_preview(source: Household, target: Household) -> dict:
    """What a merge will do, in words, for the user to confirm before it is done (it cannot be undone)."""
    moving = source.members.filter(status=Member.Status.ACTIVE).count()
    village = Region.objects.filter(code=target.region_id).values_list("name", flat=True).first() or ""
    return {
        "title": f"请确认：并入户 {target.number}",
        "lines": [
            f"并入的农户：{target.number}（{village}，户主 {target.head_name or '—'}，现有 {target.size} 人）",
            f"本户 {source.number} 的在册成员 {moving} 人将全部转入该户，原户主转为“其他”关系，请合户后在该户核对。",
            "合户后本户注销，此操作不能撤销。",
        ],
    }


def next_household_number(village: str) -> str:
    """The 户编号 after the village's highest one of the usual form (its 12-digit code and a serial), for a new
    household's form to offer; "" when the village has none of that form. Read from the (village, 户编号) index."""
    last = (
        # Unscoped: a suggestion for the form of a village the caller checked; numbers are unique system-wide.
        Household.objects.unscoped()
        .filter(region_id=village, number__startswith=village)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    serial = last[len(village) :] if last else ""
    if not serial.isdigit():
        return ""
    return village + str(int(serial) + 1).zfill(len(serial))


def monitoring_line(village: str) -> str:
    """The monitoring line in force for ``village`` this year, as plain text ("5000"), for a form's hints."""
    return plain(policy_values(region_code=village)["monitoring_line"])


def member_phones_masked(members: list[Member]) -> None:
    """Set ``phone_masked`` on each member ("" without a phone): one statement, decrypting only the phones."""
    # Unscoped: members the caller already read under the user's scope.
    phones = dict(Member.objects.unscoped().filter(pk__in=[m.pk for m in members]).values_list("pk", "phone"))
    for m in members:
        phone = phones.get(m.pk) or ""
        m.phone_masked = mask_phone(phone) if phone else ""


# --- 帮扶责任人 / 联系人 -------------------------------------------------------------------------------------------


def helper_assignments(household: Household) -> list[HelperAssignment]:
    """The household's 帮扶责任人/联系人, the current one first, then those before, newest first."""
    return list(
        household.helper_assignments.all()
        .select_related("helper", "helper__region")
        .order_by(Case(When(ended_on__isnull=True, then=0), default=1), "-started_on", "-id")
    )


def helper_candidates(households: list[Household]):
    """The accounts that may look after every one of ``households``: active 帮扶责任人/联系人 of their village or
    of its town (the levels that role is bound to), by name."""
    from fangfan.accounts.models import User

    places: set[str] | None = None
    for household in households:
        village = household.region_id
        own = {village, village[:9] + "000"}
        places = own if places is None else places & own
    if not places:
        return User.objects.none()
    return (
        User.objects.filter(role=Role.HELPER, is_active=True, region_id__in=sorted(places))
        .select_related("region")
        .order_by("region_id", "full_name", "username")
    )


def helper_workload(user) -> list[dict]:
    """Each active 帮扶责任人/联系人 of the user's jurisdiction with how many households they look after now, and
    how many of those need one (exited or at risk) — the town's view of 责任到人, busiest first."""
    from fangfan.accounts.models import User

    helpers = User.objects.for_user(user, "household.view").filter(role=Role.HELPER, is_active=True)
    current = (
        HelperAssignment.objects.for_user(user, "household.view")
        .filter(ended_on__isnull=True, helper__in=helpers)
        .values("helper_id")
        .annotate(n=Count("id"), needing=Count("id", filter=needs_helper_q("household__")))
    )
    counts = {row["helper_id"]: row for row in current}
    return sorted(
        (
            {
                "user": h,
                "households": counts.get(h.pk, {}).get("n", 0),
                "needing": counts.get(h.pk, {}).get("needing", 0),
            }
            for h in helpers.select_related("region")
        ),
        key=lambda row: (-row["households"], row["user"].region_id or "", str(row["user"])),
    )


def helper_name(pk: str, user) -> str:
    """The name shown for the list's ``helper`` filter: the user's own "我", else the name of a helper who works in
    the user's jurisdiction or looks after a household there — never the name of some other place's account (an id
    typed into the address must not reveal who holds it)."""
    from fangfan.accounts.models import User

    if str(user.pk) == pk:
        return "我"
    helpers = User.objects.filter(pk=int(pk), role=Role.HELPER)
    ours = helpers.filter(pk__in=User.objects.for_user(user, "household.view").values("pk")) | helpers.filter(
        pk__in=HelperAssignment.objects.for_user(user, "household.view").values("helper_id")
    )
    helper = ours.first()
    return str(helper) if helper else "（不在管辖范围内的账号）"


def current_helpers(households: list[Household]) -> dict[int, HelperAssignment]:
    """The current assignment of each of ``households`` that has one, by household id."""
    return {
        a.household_id: a
        # Unscoped: the assignments of households the caller already read under the user's scope.
        for a in HelperAssignment.objects.unscoped()
        .filter(household__in=[h.pk for h in households], ended_on__isnull=True)
        .select_related("helper")
    }


def helper_coverage(user) -> dict[str, int]:
    """How many households of the jurisdiction need a 帮扶责任人/联系人 (exited, or at risk), and how many of those
    have none in office."""

    households = Household.objects.for_user(user, "household.view").filter(cancelled=False)
    return {
        "needing": households.filter(needs_helper_q()).count(),
        "without": households.filter(without_helper_q()).count(),
    }


def needs_helper(household: Household) -> bool:
    """Whether the household must have a 帮扶责任人/联系人 (``filters.needs_helper_q``, for one household)."""
    return not household.cancelled and (
        household.household_type == HouseholdType.EXITED
        or (bool(household.monitoring_type) and household.monitoring_state != MonitoringState.ELIMINATED)
    )


# --- months (the ledgers' month filter) ---------------------------------------------------------------------------


def month_span(raw: str | None, today: date) -> tuple[date, date]:
    """``YYYY-MM`` (a ledger's month; a wrong or future one gives the current month) → [first day, next first)."""
    first = today.replace(day=1)
    if raw and len(raw) == 7 and raw[4] == "-" and raw[:4].isdigit() and raw[5:].isdigit():
        year, month = int(raw[:4]), int(raw[5:])
        if year >= 2000 and 1 <= month <= 12 and date(year, month, 1) <= first:
            first = date(year, month, 1)
    after = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, after


def helper_covers(helper, household: Household) -> bool:
    """Whether ``helper``'s place (a village or a town) still holds ``household``."""
    span = helper.jurisdiction_range()
    return span is not None and span[0] <= household.region_id < span[1]
