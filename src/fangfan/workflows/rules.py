"""Who acts on a step, which process a request means, and a case's dates: small pure helpers the services, the
selectors and the pages share."""

from __future__ import annotations

from datetime import date, timedelta

from fangfan.regions.codes import CODE_LENGTH, PREFIX, Level, level_of
from fangfan.registry.choices import MonitoringType

from .choices import Kind, ProcessCode, StepLevel

LEVELS = {
    StepLevel.VILLAGE: Level.VILLAGE,
    StepLevel.TOWN: Level.TOWN,
    StepLevel.COUNTY: Level.COUNTY,
    StepLevel.PROVINCE: Level.PROVINCE,
}
STEP_LEVEL_OF = {v: k for k, v in LEVELS.items()}


def ancestor_at(code: str, level: str) -> str:
    """The household's village code's ancestor at a step's level (the village itself for a village step)."""
    return code[: PREFIX[LEVELS[level]]].ljust(CODE_LENGTH, "0")


def step_level_of_user(user) -> str | None:
    """The step level a user acts at: the level of the region the account is bound to."""
    if not getattr(user, "region_id", None):
        return None
    return STEP_LEVEL_OF.get(level_of(user.region_id))


def acts_on(user, step, region_code: str) -> bool:
    """The user acts on ``step`` of a case of the household in ``region_code``: the step's role, and the account
    bound to the household's village / town / county / province at the step's level."""
    if step is None or user is None or not user.is_active or not user.can("case.act"):
        return False
    return user.role == step.role and user.region_id == ancestor_at(region_code, step.level)


def process_code_for(kind: str, household) -> str:
    """The internal process a request names: the API's ``identify``, ``eliminate``, ``reclassify``, ``revert``
    (or an internal code, e.g. ``identify_edge`` for the plan's M2 check of marginal households). ``eliminate``
    goes by the household's monitoring type: 脱贫不稳定户 through 村级填报 → 镇审查 → 市县审核 → 省级备案, the others
    through 镇审查并汇总填报 → 市县审核 (plan M6)."""
    if kind in ProcessCode.values:
        return kind
    if kind == Kind.ELIMINATE:
        if household.monitoring_type == MonitoringType.UNSTABLE:
            return ProcessCode.ELIMINATE_UNSTABLE
        return ProcessCode.ELIMINATE_EDGE
    if kind in (Kind.IDENTIFY, Kind.RECLASSIFY, Kind.REVERT):
        return kind
    return ""


def step_due(case) -> date | None:
    if case.current_step is None or case.step_since is None:
        return None
    return case.step_since.date() + timedelta(days=case.current_step.limit_days)


def overdue(case, today: date) -> bool:
    return case.state == "open" and case.due_on < today
