"""Warnings for tests, written the way the screening engine writes them (pending, channel 部门筛查预警, one row per
rule and evidence), plus the objects the permission matrix needs for the monitoring URLs that take a parameter.

``MATRIX_OBJECT_URLS`` maps each such URL name to a factory(users) → (kwargs, region code), in the form of
``tests/core/test_permission_matrix.OBJECT_URLS``: the task and the warning carry a 医保 (medical) hit so that the
department user of the fixtures (医保, 桃溪镇) may open them.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime

from conftest import TOWN, VILLAGE, operator
from django.utils import timezone
from registry_factory import make_household

from fangfan.core.models import Job
from fangfan.monitoring.models import Clue, DepartmentBatch, DepartmentToken, EarlyWarning

_serial = itertools.count(1)


def make_warning(
    household,
    *,
    rule_code: str | None = None,
    risk_type: str = "illness",
    source: str = "medical",
    channel: str = "department",
    kind: str = "risk",
    explanation: str = "",
    created_at: datetime | None = None,
    evidence: dict | None = None,
) -> EarlyWarning:
    """A pending warning as the screening engine inserts it (no task yet)."""
    n = next(_serial)
    return EarlyWarning.objects.create(
        household=household,
        region_code=household.region_id,
        rule_code=rule_code if rule_code is not None else f"TEST_RULE_{n}",
        risk_type=risk_type,
        kind=kind,
        channel=channel,
        source=source,
        dedupe_key=f"test-{n}",
        explanation=explanation or f"测试预警 {n}：住院个人自付 8000 元，超过 6000 元",
        evidence=evidence if evidence is not None else {"个人自付金额": "8000.00"},
        created_at=created_at or timezone.now(),
    )


_households = itertools.count(1)


def household(village: str = VILLAGE, **kwargs):
    n = next(_households)
    return make_household(kwargs.pop("number", f"MX{village[-6:]}{n:05d}"), village, **kwargs)


# --- objects for the permission matrix ---------------------------------------------------------------------------


def _bundled_warning():
    from fangfan.monitoring.services import tasks_bundle

    hh = household(members=[("王五", date(1968, 3, 3), "户主")])
    warning = make_warning(hh, source="medical")
    tasks_bundle(actor=operator(), household_ids=[hh.pk])
    warning.refresh_from_db()
    return hh, warning


def matrix_task(users) -> tuple[dict, str]:
    _hh, warning = _bundled_warning()
    return {"pk": warning.task_id}, VILLAGE


def matrix_warning(users) -> tuple[dict, str]:
    _hh, warning = _bundled_warning()
    return {"pk": warning.pk}, VILLAGE


def matrix_household(users) -> tuple[dict, str]:
    hh = household(members=[("赵六", date(1975, 6, 6), "户主")])
    return {"pk": hh.pk}, VILLAGE


def matrix_clue(users) -> tuple[dict, str]:
    clue = Clue.objects.create(
        channel="self_report", region_code=VILLAGE, name="测试", description="测试线索"
    )
    return {"pk": clue.pk}, VILLAGE


MATRIX_OBJECT_URLS = {
    "monitoring:task_detail": matrix_task,
    "monitoring:warning_detail": matrix_warning,
    "monitoring:warning_report": matrix_household,
    "monitoring:warning_feedback": matrix_household,
    "monitoring:clue_detail": matrix_clue,
}


# --- the department-data pages (tests/monitoring/test_department_matrix.py, tests/core/test_permission_matrix.py) --


def matrix_batch(users) -> tuple[dict, str]:
    batch = DepartmentBatch.objects.create(
        source="medical", file_name="医保.csv", region_id=TOWN, uploaded_by=users["department"]
    )
    return {"pk": batch.pk}, TOWN


def matrix_token(users) -> tuple[dict, str]:
    token = DepartmentToken.objects.create(
        name="医保系统",
        source="medical",
        region_id=TOWN,
        token_hash=f"{next(_serial):064d}",
        created_by=users["town_station"],
    )
    return {"pk": token.pk}, TOWN


def matrix_department_job(users) -> tuple[dict, str]:
    job = Job.objects.create(
        kind="department_import",
        title="导入医保数据：医保.csv",
        state=Job.State.DONE,
        params={"source": "medical"},
        region_code=TOWN,
        created_by=users["department"],
        result={"source": "medical", "rows": 1, "matched": 1, "unmatched": 0, "name_mismatches": 0},
    )
    return {"pk": job.pk}, TOWN


DEPARTMENT_OBJECT_URLS = {
    "department:batch_job": matrix_department_job,
    "department:batch_detail": matrix_batch,
    "department:batch_unmatched": matrix_batch,
    "department:token_revoke": matrix_token,
}
