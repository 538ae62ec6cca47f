"""Cases for tests: households in the states each process starts from, the step data each step needs, and a walk
of a case to a given step by the right users (``users`` of tests/conftest.py)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from assistance_factory import PDF, PNG, Upload
from conftest import VILLAGE
from django.utils import timezone
from factories import case
from registry_factory import make_household

from fangfan.workflows import services
from fangfan.workflows.models import Case

_numbers = itertools.count(1)


def household(village: str = VILLAGE, **fields):
    return make_household(f"{village}9{next(_numbers):05d}", village, **fields)


def monitored(village: str = VILLAGE, *, monitoring_type: str = "unstable", months_ago: int = 8, **fields):
    """A household under monitoring since ``months_ago`` months."""
    today = timezone.localdate()
    y, m = divmod(today.year * 12 + today.month - 1 - months_ago, 12)
    fields.setdefault("household_type", "exited" if monitoring_type == "unstable" else "general")
    return household(
        village,
        monitoring_type=monitoring_type,
        monitoring_state="monitoring",
        identified_month=f"{y}{m + 1:02d}",
        **fields,
    )


def step_data(case: Case) -> dict:
    """Valid data for the case's current step."""
    today = timezone.localdate()
    visit = {"visited_on": today.isoformat(), "finding": "入户核实情况属实"}
    meeting = {"meeting_on": today.isoformat(), "attendees": 12, "agreed": True}
    notice = {
        "notice_from": (today - timedelta(days=5)).isoformat(),
        "notice_to": today.isoformat(),
        "objections": "无",
    }
    schema = case.current_step.data_schema
    return {
        "入户核查": visit,
        "民主评议": meeting,
        "村内公示": notice,
        "村级填报": {**visit, **meeting, **notice},
    }.get(schema, {})


def actor_for(case: Case, users) -> object:
    step = case.current_step
    return {
        "village_clerk": users["village_clerk"],
        "town_station": users["town_station"],
        "town_leader": users["town_leader"],
        "county_review": users["county_review"],
        "province_record": users["province_record"],
    }[step.role]


def approve(case: Case, users, **kwargs) -> Case:
    case.refresh_from_db()
    actor = actor_for(case, users)
    if case.current_step.data_schema == "承诺授权" and not case.attachments.filter(kind="consent").exists():
        services.case_attach(case=case, actor=actor, kind="consent", upload=Upload(PDF, "承诺书.pdf"))
    return services.case_act(case=case, actor=actor, action="approve", data=step_data(case), **kwargs)


def walk(case: Case, users, *, to: str | None = None, **kwargs) -> Case:
    """Approve step after step until the case is at step ``to`` (or ends)."""
    while case.state == "open" and (to is None or case.current_step.name != to):
        case = approve(case, users, **kwargs)
    return case


def start(hh, users, process: str = "identify", **fields) -> Case:
    return case(hh, users, process, **fields)


def months_above_line(hh, *, months: int = 6, income: str = "9000") -> None:
    """Monthly history rows above the line for the last ``months`` months."""
    from decimal import Decimal

    from fangfan.registry.models import HouseholdMonth

    today = timezone.localdate()
    for back in range(months):
        y, m = divmod(today.year * 12 + today.month - 1 - back, 12)
        HouseholdMonth.objects.create(
            household=hh,
            month=date(y, m + 1, 1),
            region_code=hh.region_id,
            household_type=hh.household_type,
            per_capita_income=Decimal(income),
            taken_at=timezone.now(),
        )


__all__ = ["PDF", "PNG", "Upload", "approve", "household", "monitored", "start", "step_data", "walk"]


def eliminable(users, *, monitoring_type: str = "unstable", **fields):
    """A monitored household meeting every elimination condition: 8 months monitored, six months above the line,
    三保障 and water secure, its one risk point closed after a measure was carried out."""
    from assistance_factory import measure, risk

    from fangfan.assistance import services as assistance

    fields.setdefault("food_clothing_secure", True)
    fields.setdefault("housing_grade", "A")
    fields.setdefault("water_safe", True)
    hh = monitored(monitoring_type=monitoring_type, **fields)
    station = users["town_station"]
    rp = risk(hh, station)
    measure(hh, station, risk_point=rp, state="done")
    assistance.risk_close(risk=rp, actor=station, closed_on=timezone.localdate(), note="已落实医疗救助")
    months_above_line(hh)
    # Derived from the members (insured, schooling); the test household's head has them on record.
    type(hh).objects.filter(pk=hh.pk).update(education_secure=True, medical_secure=True)
    hh.refresh_from_db()
    return hh


# --- the permission matrix --------------------------------------------------------------------------------------
# Factories(users) → (kwargs, region code, seen_by) for the 审批 URLs that name an object, in the form of
# ``tests/core/test_permission_matrix.OBJECT_URLS``: a case of 东风村 at its first step (入户核查, the village
# clerk's); whoever may read cases in the village's region sees it.


def matrix_case(users):
    return {"pk": start(household(), users).pk}, VILLAGE, ""


def matrix_attachment(users):
    case = start(household(), users)
    att = services.case_attach(
        case=case, actor=users["village_clerk"], kind="consent", upload=Upload(PDF, "承诺书.pdf")
    )
    return {"pk": att.pk}, VILLAGE, ""


def matrix_household(users):
    return {"pk": household().pk}, VILLAGE, ""


MATRIX_OBJECT_URLS = {
    "workflows:case_detail": matrix_case,
    "workflows:case_act": matrix_case,
    "workflows:case_attach": matrix_case,
    "workflows:attachment_file": matrix_attachment,
    "workflows:case_start": matrix_household,
}
