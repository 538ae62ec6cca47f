"""Approval cases for tests: a case started on a household by the role that starts its process."""

from __future__ import annotations

from fangfan.workflows import services
from fangfan.workflows.models import Case


def case(household, users, process: str = "identify", **fields) -> Case:
    """A case of ``process`` on ``household`` at its first step, started by the village clerk (by the town station
    for an elimination of a household that is no 脱贫不稳定户); ``users``: the fixture of tests/conftest.py."""
    fields.setdefault("reason", "测试事由")
    if process in ("identify", "identify_edge"):
        fields.setdefault(
            "monitoring_type", "unstable" if household.household_type == "exited" else "marginal"
        )
        fields.setdefault("risk_types", ["illness"])
    if process == "reclassify":
        fields.setdefault("exited_class", "monitored")
    who = (
        users["town_station"] if process == "eliminate" and household.monitoring_type != "unstable" else None
    )
    return services.case_start(
        household=household, actor=who or users["village_clerk"], process=process, **fields
    )
