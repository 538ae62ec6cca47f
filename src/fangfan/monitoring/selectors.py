"""Reads of early warning that need scoping: the warnings inbox and its filters, verification tasks, overdue
lists, risk points, clues, and a household's timeline.

Every queryset starts from ``for_user``: a user sees only their region's subtree, and a department user only the
hits from its own department's data (``EarlyWarning.narrow_for_user``); tasks and risk points are narrowed the
same way through their warnings.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from fangfan.regions.codes import Level
from fangfan.regions.models import Region
from fangfan.registry.models import Household

from .choices import Channel, RiskType
from .models import Clue, EarlyWarning, RiskPoint, Rule, VerificationTask
from .services import policy_days

OPEN = EarlyWarning.OPEN_STATES


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _is_department(user) -> bool:
    return getattr(user, "role", "") == "department"


# --- warnings ---------------------------------------------------------------------------------------------------


def warnings_for_user(user, action: str = "warning.view") -> QuerySet[EarlyWarning]:
    """Warnings in the user's jurisdiction (a department user: only hits from its own data)."""
    return EarlyWarning.objects.for_user(user, action)


def warning_search(
    user,
    *,
    state: str = "",
    risk_type: str = "",
    channel: str = "",
    rule: str = "",
    village: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    overdue: bool = False,
    action: str = "warning.view",
) -> QuerySet[EarlyWarning]:
    """The warnings list with its filters (state, risk type, source, rule, village, days of creation, both ends
    included), newest first, with the household's number and head's name."""
    qs = warnings_for_user(user, action)
    if state == "open":
        qs = qs.filter(state__in=OPEN)
    elif state:
        qs = qs.filter(state=state)
    if risk_type:
        qs = qs.filter(risk_type=risk_type)
    if channel:
        qs = qs.filter(channel=channel)
    if rule:
        qs = qs.filter(rule_code=rule)
    if village:
        qs = qs.filter(region_code=village)
    if date_from:
        qs = qs.filter(created_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=_day_start(date_to + timedelta(days=1)))
    if overdue:
        qs = qs.filter(_overdue_warning_q(user))
    return qs.select_related("household").order_by("-created_at", "-id")


def _villages_in(user) -> list[str]:
    span = user.jurisdiction_range()
    if span is None:
        return []
    return list(
        Region.objects.filter(level=Level.VILLAGE, code__gte=span[0], code__lt=span[1]).values_list(
            "code", flat=True
        )
    )


def _overdue_warning_q(user, today: date | None = None) -> Q:
    """Open warnings not decided within ``decide_days`` of their creation (线索到认定 15 days), the days read
    from the policy table for each village (one condition per distinct value)."""
    today = today or timezone.localdate()
    days = policy_days(_villages_in(user))
    groups: dict[int, list[str]] = defaultdict(list)
    for village, values in days.items():
        groups[values["decide_days"]].append(village)
    open_q = Q(state__in=OPEN)
    if not groups:
        return open_q & Q(pk__in=[])
    if len(groups) == 1:
        (decide,) = groups
        return open_q & Q(created_at__lt=_day_start(today - timedelta(days=decide)))
    condition = Q(pk__in=[])
    for decide, villages in groups.items():
        condition |= Q(region_code__in=villages, created_at__lt=_day_start(today - timedelta(days=decide)))
    return open_q & condition


def warnings_overdue(user, *, today: date | None = None) -> QuerySet[EarlyWarning]:
    """Open warnings past the decision deadline, oldest first."""
    return (
        warnings_for_user(user)
        .filter(_overdue_warning_q(user, today))
        .select_related("household")
        .order_by("created_at", "id")
    )


# --- verification tasks -----------------------------------------------------------------------------------------


def tasks_for_user(user, action: str = "warning.view") -> QuerySet[VerificationTask]:
    """Verification tasks in the user's jurisdiction; a department user sees only tasks holding a hit from its
    own data."""
    qs = VerificationTask.objects.for_user(user, action)
    if _is_department(user):
        qs = qs.filter(
            Exists(EarlyWarning.objects.filter(task=OuterRef("pk"), source=getattr(user, "department", "")))
        )
    return qs


def task_warnings(user, task: VerificationTask) -> QuerySet[EarlyWarning]:
    """The warnings of a task the user may see, oldest first."""
    return warnings_for_user(user).filter(task=task).order_by("created_at", "id")


def _with_warnings(qs: QuerySet[VerificationTask], user) -> QuerySet[VerificationTask]:
    """Each task with its open warnings (``open_warnings``) and the name of its household's current
    帮扶责任人/联系人 (``helper_name``: the person to ask when a visit is late)."""
    from fangfan.registry.models import HelperAssignment

    visible = warnings_for_user(user).filter(state__in=OPEN).order_by("created_at", "id")
    helper = HelperAssignment.objects.filter(household=OuterRef("household_id"), ended_on__isnull=True)
    return (
        qs.select_related("household")
        .annotate(helper_name=Subquery(helper.values("helper__full_name")[:1]))
        .prefetch_related(Prefetch("warnings", queryset=visible, to_attr="open_warnings"))
    )


def tasks_open(user, *, village: str = "") -> QuerySet[VerificationTask]:
    """Open tasks, the earliest due first, each with its open warnings (``task.open_warnings``)."""
    qs = tasks_for_user(user).filter(state=VerificationTask.State.OPEN)
    if village:
        qs = qs.filter(region_code=village)
    return _with_warnings(qs.order_by("due_date", "id"), user)


def helped_by(qs: QuerySet, user) -> QuerySet:
    """Rows of ``qs`` (tasks, warnings: anything with a ``household``) whose household ``user`` looks after as its
    current 帮扶责任人/联系人 (``registry.HelperAssignment``)."""
    from fangfan.registry.models import HelperAssignment

    return qs.filter(
        Exists(
            HelperAssignment.objects.filter(
                household=OuterRef("household_id"), helper_id=user.pk, ended_on__isnull=True
            )
        )
    )


def tasks_overdue(user, *, today: date | None = None) -> QuerySet[VerificationTask]:
    """Open tasks whose 入户核查 deadline has passed."""
    today = today or timezone.localdate()
    return _with_warnings(
        tasks_for_user(user)
        .filter(state=VerificationTask.State.OPEN, due_date__lt=today)
        .order_by("due_date", "id"),
        user,
    )


def tasks_done(user) -> QuerySet[VerificationTask]:
    return (
        tasks_for_user(user).filter(state=VerificationTask.State.DONE).select_related("household", "done_by")
    )


# --- risk points --------------------------------------------------------------------------------------------------


def risks_for_user(user, action: str = "warning.view") -> QuerySet[RiskPoint]:
    """Risk points in the user's jurisdiction; a department user sees only those raised from its own data."""
    qs = RiskPoint.objects.for_user(user, action)
    if _is_department(user):
        qs = qs.filter(warning__source=getattr(user, "department", ""))
    return qs


def risks_open(
    user, *, village: str = "", risk_type: str = "", overdue: bool = False, household: int | None = None
) -> QuerySet[RiskPoint]:
    """Open risk points, the nearest deadline first."""
    qs = risks_for_user(user).filter(state__in=RiskPoint.UNRESOLVED)
    if household:
        qs = qs.filter(household_id=household)
    if village:
        qs = qs.filter(region_code=village)
    if risk_type:
        qs = qs.filter(risk_type=risk_type)
    if overdue:
        qs = qs.filter(deadline__lt=timezone.localdate())
    return qs.select_related("household").order_by("deadline", "id")


def risks_overdue(user, *, today: date | None = None) -> QuerySet[RiskPoint]:
    """Open risk points past their 限期消除 date."""
    today = today or timezone.localdate()
    return (
        risks_for_user(user)
        .filter(state__in=RiskPoint.UNRESOLVED, deadline__lt=today)
        .select_related("household")
        .order_by("deadline", "id")
    )


# --- clues --------------------------------------------------------------------------------------------------------


def clues_for_user(user, action: str = "warning.review") -> QuerySet[Clue]:
    return Clue.objects.for_user(user, action)


def clues_open(user) -> QuerySet[Clue]:
    return clues_for_user(user).filter(state=Clue.State.NEW).order_by("id")


# --- the inbox ----------------------------------------------------------------------------------------------------


def inbox_counts(user) -> dict[str, int]:
    """The figures at the top of the inbox: what waits, what is late."""
    today = timezone.localdate()
    counts = {
        "tasks_open": tasks_for_user(user).filter(state=VerificationTask.State.OPEN).count(),
        "tasks_overdue": tasks_for_user(user)
        .filter(state=VerificationTask.State.OPEN, due_date__lt=today)
        .count(),
        "warnings_open": warnings_for_user(user).filter(state__in=OPEN).count(),
        "warnings_overdue": warnings_for_user(user).filter(_overdue_warning_q(user, today)).count(),
        "risks_open": risks_for_user(user).filter(state__in=RiskPoint.UNRESOLVED).count(),
        "risks_overdue": risks_for_user(user)
        .filter(state__in=RiskPoint.UNRESOLVED, deadline__lt=today)
        .count(),
        "clues_open": clues_open(user).count() if user.can("warning.review") else 0,
    }
    return counts


# --- choices for filters and forms ----------------------------------------------------------------------------------


def village_choices(user) -> list[tuple[str, str]]:
    """Villages of the user's jurisdiction (code, name), for the filter dropdown."""
    span = user.jurisdiction_range()
    if span is None:
        return []
    return list(
        Region.objects.filter(level=Level.VILLAGE, code__gte=span[0], code__lt=span[1])
        .order_by("code")
        .values_list("code", "name")
    )


def village_names(codes) -> dict[str, str]:
    codes = {c for c in codes if c}
    return dict(Region.objects.filter(pk__in=codes).values_list("pk", "name")) if codes else {}


def rule_names() -> dict[str, str]:
    return dict(Rule.objects.values_list("code", "name"))


def rule_choices() -> list[tuple[str, str]]:
    """The rules filter's options, by their Chinese names (the code stays the value)."""
    return list(Rule.objects.order_by("name", "code").values_list("code", "name"))


def public_villages() -> list[tuple[str, str]]:
    """Every current village with its town's name, for the public page's dropdown (names only)."""
    towns = dict(Region.objects.filter(level=Level.TOWN, valid_to__isnull=True).values_list("code", "name"))
    rows = Region.objects.filter(level=Level.VILLAGE, valid_to__isnull=True).order_by("code")
    return [(code, f"{towns.get(parent or '', '')} {name}".strip()) for code, name, parent in
            rows.values_list("code", "name", "parent_id")]  # fmt: skip


def household_for_user(user, pk: int, action: str = "household.view") -> Household | None:
    return Household.objects.for_user(user, action).select_related("region").filter(pk=pk).first()


def household_by_number(user, number: str, action: str = "household.view") -> Household | None:
    """A household by its 户编号, inside the user's jurisdiction (None also for one outside it)."""
    return Household.objects.for_user(user, action).filter(number=number).first()


def household_risks(household: Household) -> QuerySet[RiskPoint]:
    """Every risk point of a household the caller has already found through ``for_user``, oldest first."""
    return household.risk_points.order_by("found_on", "id")


# --- the household's timeline ----------------------------------------------------------------------------------------

_STATE_BADGES = {
    EarlyWarning.State.PENDING: "bg-yellow-lt",
    EarlyWarning.State.VERIFYING: "bg-orange-lt",
    EarlyWarning.State.CONFIRMED: "bg-red-lt",
    EarlyWarning.State.EXCLUDED: "bg-secondary-lt",
}


def _as_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value
    return _day_start(value)


def household_timeline(household: Household) -> list[dict]:
    """Everything early warning knows about one household, newest first: warnings (with their decision),
    verification tasks (opened, visited), risk points and clues. Each entry: ``at`` (datetime), ``kind``
    (warning / task / visit / risk / clue), ``title``, ``detail``, ``state``, ``badge`` (a CSS class) and
    ``url``. The caller has already checked that the user may see the household."""
    risk_labels, channel_labels = dict(RiskType.choices), dict(Channel.choices)
    entries: list[dict] = []
    warnings = household.warnings.select_related("rule").order_by("created_at", "id")
    for w in warnings:
        detail = w.explanation
        if w.state == EarlyWarning.State.EXCLUDED and w.exclude_reason:
            detail = f"{detail}（排除理由：{w.exclude_reason}）"
        rule = w.rule.name if w.rule else w.rule_code  # by its Chinese name, as the warnings list names it
        entries.append(
            {
                "at": w.created_at,
                "kind": "warning",
                "title": f"预警：{risk_labels.get(w.risk_type, w.risk_type)}",
                "detail": detail,
                "meta": " · ".join(x for x in [channel_labels.get(w.channel, w.channel), rule] if x),
                "state": w.get_state_display(),
                "badge": _STATE_BADGES.get(w.state, ""),
                "url": reverse("monitoring:warning_detail", args=[w.pk]),
            }
        )
    for t in household.verification_tasks.order_by("opened_at", "id"):
        url = reverse("monitoring:task_detail", args=[t.pk])
        entries.append(
            {
                "at": t.opened_at,
                "kind": "task",
                "title": "派发入户核查任务",
                "detail": f"核查期限 {t.due_date:%Y-%m-%d}，认定期限 {t.decide_by:%Y-%m-%d}",
                "meta": "",
                "state": t.get_state_display(),
                "badge": "bg-blue-lt" if t.state == VerificationTask.State.OPEN else "bg-green-lt",
                "url": url,
            }
        )
        if t.state == VerificationTask.State.DONE and t.done_at:
            entries.append(
                {
                    "at": t.done_at,
                    "kind": "visit",
                    "title": f"完成核查（{t.visit_way}，{t.visited_on:%Y-%m-%d}）",
                    "detail": t.finding,
                    "meta": "",
                    "state": "已核查",
                    "badge": "bg-green-lt",
                    "url": url,
                }
            )
    for r in household.risk_points.order_by("created_at", "id"):
        entries.append(
            {
                "at": r.created_at,
                "kind": "risk",
                "title": f"确认风险点：{risk_labels.get(r.risk_type, r.risk_type)}",
                "detail": r.description,
                "meta": f"发现 {r.found_on:%Y-%m-%d} · 限期消除 {r.deadline:%Y-%m-%d}",
                "state": r.get_state_display(),
                "badge": "bg-red-lt" if r.state in RiskPoint.UNRESOLVED else "bg-green-lt",
                "url": reverse("monitoring:risk_list") + f"?household={household.pk}",
            }
        )
    # Unscoped: the clues linked to ``household``, which the caller read under the user's scope.
    for c in Clue.objects.unscoped().filter(household=household).order_by("created_at", "id"):
        entries.append(
            {
                "at": c.created_at,
                "kind": "clue",
                "title": f"线索：{channel_labels.get(c.channel, c.channel)}",
                "detail": c.description,
                "meta": "",
                "state": c.get_state_display(),
                "badge": "bg-azure-lt",
                "url": None,
            }
        )
    entries.sort(key=lambda e: _as_datetime(e["at"]), reverse=True)
    return entries
