"""Reads of the approval chains: the cases of a jurisdiction, a user's inbox (我的待办), one case's page data."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from fangfan.accounts.roles import Role
from fangfan.core.scoping import rows_together
from fangfan.monitoring.models import DepartmentRecord

from .choices import CaseState
from .conditions import Condition
from .models import Case, CaseAction, Step
from .rules import acts_on, overdue, step_due, step_level_of_user

VIEW = "case.view"


def cases_for_user(user, action: str = VIEW) -> QuerySet[Case]:
    return Case.objects.for_user(user, action).select_related(
        "household", "process", "current_step", "household__region"
    )


def _my_steps(user, level: str) -> list[int]:
    """The ids of the steps the user's role acts on at ``level``; kept on the user object for the request (the
    inbox and the navigation's badge both need them), keyed by role and level."""
    memo = user.__dict__.setdefault("_fangfan_step_ids", {})
    key = (user.role, level)
    if key not in memo:
        memo[key] = list(Step.objects.filter(role=user.role, level=level).values_list("pk", flat=True))
    return memo[key]


def waiting_for(user) -> QuerySet[Case]:
    """The open cases whose current step is the user's: the step's role, and (inside the jurisdiction) the
    account bound at the step's level — a town station waits on its town's town steps, never a village's.

    The user's steps are looked up first (a few rows) and the cases filtered by their ids: with the index
    ``case_waiting_idx`` (step, state, due date, id, region) a county reviewer's 10 000 open cases are counted
    and ordered from the index alone, instead of joining every case to its step (docs/benchmarks.md, chains)."""
    level = step_level_of_user(user)
    if level is None or not user.can("case.act"):
        return Case.objects.none()
    return cases_for_user(user).filter(state=CaseState.OPEN, current_step_id__in=_my_steps(user, level))


def waiting_count(user) -> int:
    return waiting_for(user).count()


BADGE_CAP = 100  # the navigation shows "99+" beyond this


def waiting_badge(user) -> int | str:
    """The navigation's 我的待办 count: exact up to 99, "99+" beyond — at most 100 entries of ``case_waiting_idx``
    read, where an exact count of a county reviewer's 10 000 open cases read them all (2–7 ms on SQLite, 13 ms on
    PostgreSQL, on every page)."""
    known = user.__dict__.get("_fangfan_waiting_seen")  # set by the inbox when it read enough for the answer
    if known is None:
        level = step_level_of_user(user)
        if level is None or not user.can("case.act"):
            return 0
        # the user's steps as a subquery: one statement on every page that shows the menu, not two
        steps = Step.objects.filter(role=user.role, level=level).values("pk")
        waiting = cases_for_user(user).filter(state=CaseState.OPEN, current_step_id__in=steps)
        known = waiting.order_by()[:BADGE_CAP].count()
    n = min(known, BADGE_CAP)
    return f"{BADGE_CAP - 1}+" if n >= BADGE_CAP else n


# What 我的待办 shows of a case (workflows/inbox.html).
INBOX_FIELDS = (
    "due_on",
    "region_code",
    "household__number",
    "household__head_name",
    "process__name",
    "current_step__name",
    "current_step__data_schema",
)


def _waiting_ids(user, *, offset: int, limit: int) -> list[int]:
    """The ids of ``waiting_for(user)`` in (办结期限, id) order, ``limit`` from ``offset``: each of the user's steps
    read in that order from ``case_waiting_idx`` (at most ``offset + limit`` entries each), in one ``UNION ALL``
    statement, and the heads merged. One ordered statement over the steps together read and sorted every waiting
    case: a county reviewer's 10 000 (PostgreSQL scanned the table, 40–60 ms under load); one statement per step
    cost a round trip each (docs/benchmarks.md, chains)."""
    level = step_level_of_user(user)
    if level is None or not user.can("case.act"):
        return []
    waiting = cases_for_user(user).filter(state=CaseState.OPEN)
    branches = [
        waiting.filter(current_step_id=step)
        .order_by("due_on", "id")
        .values_list("due_on", "pk")[: offset + limit]
        for step in _my_steps(user, level)
    ]
    heads = sorted((_as_date(due), pk) for due, pk in rows_together(branches))
    # each step read up to the cap: what was read answers the navigation's badge on this request
    if offset + limit >= BADGE_CAP:
        user.__dict__["_fangfan_waiting_seen"] = len(heads)
    return [pk for _due, pk in heads[offset : offset + limit]]


def _as_date(value) -> date:
    """SQLite hands a raw ``UNION`` back its dates as text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def inbox_rows(user, *, limit: int = 500, offset: int = 0) -> list[Case]:
    """我的待办: ``limit`` waiting cases by 办结期限 from ``offset``. Two steps: the ids in order from the index,
    then those rows with their household, region, process and step (joining and sorting every waiting case in one
    statement took 180 ms for 10 000 of them on SQLite)."""
    ids = _waiting_ids(user, offset=offset, limit=limit)
    rows = (
        Case.objects.unscoped()  # the ids were read through the user's scope just above
        .filter(pk__in=ids)
        .select_related("household", "process", "current_step")
        .only(*INBOX_FIELDS)
        .order_by()
        .in_bulk()
    )
    return [rows[pk] for pk in ids if pk in rows]


def chain_backlog(user) -> dict:
    """The start page's 审批待办 card (``reports.level_panel``): the open cases of the jurisdiction, opening their
    list."""
    from django.urls import reverse

    count = cases_for_user(user).filter(state=CaseState.OPEN).count() if user.can(VIEW) else 0
    return {"count": count, "url": reverse("workflows:case_list") + f"?state={CaseState.OPEN}"}


def case_list(user, *, waiting: bool = False, kind: str = "", state: str = "", process: str = "") -> QuerySet:
    qs = waiting_for(user) if waiting else cases_for_user(user)
    if kind:
        qs = qs.filter(kind=kind)
    if process:
        qs = qs.filter(process__code=process)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("due_on", "id") if waiting else qs.order_by("-created_at", "-id")


def case_steps(case: Case) -> list[Step]:
    return [s for s in case.process.steps.order_by("order") if s.enabled]


def case_history(case: Case) -> list[CaseAction]:
    return list(CaseAction.objects.filter(case=case).select_related("actor", "step").order_by("at", "id"))


def department_records(household, user) -> list[DepartmentRecord]:
    """信息比对: the department data on file for the household's members (matched by ID), newest first; read
    through the user's jurisdiction (``warning.view``: the roles that see warnings see their data)."""
    return list(
        DepartmentRecord.objects.for_user(user, "warning.view")
        .filter(household=household)
        .select_related("member", "batch")
        .order_by("-batch__created_at", "row_number")[:100]
    )


def case_view(case: Case, user, *, today: date, conditions: list[Condition]) -> dict:
    """What a case's page shows: its steps with their state, its history, whether the user acts now."""
    steps = case_steps(case)
    ids = [s.pk for s in steps]
    if case.state == CaseState.OPEN:
        at = ids.index(case.current_step_id) if case.current_step_id in ids else 0
        status = ["done" if i < at else "current" if i == at else "todo" for i in range(len(steps))]
    elif case.state == CaseState.DONE:
        status = ["done"] * len(steps)
    else:
        approved = set(case.actions.filter(action="approve").values_list("step_id", flat=True))
        status = ["done" if s.pk in approved else "todo" for s in steps]
    roles = dict(Role.choices)
    rows = [
        {"step": s, "status": st, "role": roles.get(s.role, s.role)}
        for s, st in zip(steps, status, strict=True)
    ]
    return {
        "steps": rows,
        "history": case_history(case),
        "acts": case.state == CaseState.OPEN and acts_on(user, case.current_step, case.region_code),
        "step_due": step_due(case),
        "overdue": overdue(case, today),
        "conditions": conditions,
        "conditions_met": all(c.met for c in conditions),
    }
