"""Reads of the approval chains: the cases of a jurisdiction, a user's inbox (我的待办), one case's page data."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from fangfan.accounts.roles import Role
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
    return list(Step.objects.filter(role=user.role, level=level).values_list("pk", flat=True))


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


def inbox_rows(user, *, limit: int = 500) -> list[Case]:
    """我的待办: the first ``limit`` waiting cases by 办结期限. Two steps: the ids in order from the index, then
    those rows with their household, region, process and step (joining and sorting every waiting case in one
    statement took 180 ms for 10 000 of them on SQLite)."""
    ids = list(waiting_for(user).order_by("due_on", "id").values_list("pk", flat=True)[:limit])
    rows = (
        Case.objects.unscoped()  # the ids just read from ``waiting_for(user)``, itself scoped
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
