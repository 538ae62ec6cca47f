"""The household and member rules every writer applies — the importer (``importing.plan``), the services behind
the web forms (``services.household_update`` / ``household_create``, the composition changes) and the forms
themselves — so that what one of them refuses, none of them writes (issue 17: "one validation for every writer").

Pure functions over plain values; each problem is a field and a plain Chinese message, which the writer places
(the importer names file, row and column; a form puts it under its field; a service raises it).

Household rules (DOMAIN.md; DATA-FORMATS §2):

* 户类型 is 一般农户 or 脱贫户;
* a 脱贫户 has a 脱贫年度; a 一般农户 has neither 脱贫年度 nor 脱贫户分类 — what a writer gives for them is refused,
  what it leaves unsaid is cleared (``household_cleared``: the edit form has no 脱贫户分类, and an import may leave out
  those columns; a household turned 一般农户 keeps no class of the 脱贫户 it was);
* a 监测状态 needs a 监测对象类型; a 风险消除时间 is not before the 识别监测时间.

Member rules: a household in the register has exactly one 户主 (``heads_problem``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from .choices import HouseholdType

# The messages tests and users know; writers may add where (a row, a column missing from the file).
TYPE_REQUIRED = "必填，应为 一般农户 或 脱贫户"
EXIT_YEAR_REQUIRED = "脱贫户须填写脱贫年度"
GENERAL_NO_EXIT_YEAR = "一般农户不填写脱贫年度"
GENERAL_NO_EXITED_CLASS = "只有脱贫户才填写脱贫户分类"
STATE_NEEDS_TYPE = "填写监测状态时须填写监测对象类型"
ELIMINATED_BEFORE_IDENTIFIED = "风险消除时间早于识别监测时间"
NO_HEAD = "该户没有户主"
ONE_HEAD = "每户只能有一个户主"

# The household fields the rules read.
HOUSEHOLD_RULE_FIELDS = (
    "household_type",
    "exit_year",
    "exited_class",
    "monitoring_type",
    "monitoring_state",
    "identified_month",
    "eliminated_month",
)
# Fields only a 脱贫户 has, with the value a 一般农户 holds instead.
EXITED_ONLY = {"exit_year": None, "exited_class": ""}


@dataclass(frozen=True)
class RuleProblem:
    field: str  # the household's (or member's) field the problem is about
    message: str


def _given(values: Mapping[str, object], name: str) -> bool:
    """Whether the writer says something for ``name``: present and not blank."""
    return values.get(name) not in (None, "")


def household_problems(values: Mapping[str, object]) -> list[RuleProblem]:
    """What is wrong with a household's values, in field order. ``values`` maps the fields the writer knows
    (``HOUSEHOLD_RULE_FIELDS``; ``exit_year`` an int or None, the others codes or ``""``) to their values; a rule
    over a field missing from ``values`` is not checked (an import without that column, a form without that
    field) — except 脱贫年度, which a 脱贫户 must have: its problem says so."""
    htype = values.get("household_type")
    if "household_type" in values and htype in ("", None):
        return [RuleProblem("household_type", TYPE_REQUIRED)]
    problems = []
    if htype == HouseholdType.EXITED:
        if not _given(values, "exit_year"):
            problems.append(RuleProblem("exit_year", EXIT_YEAR_REQUIRED))
    elif htype == HouseholdType.GENERAL:
        if _given(values, "exit_year"):
            problems.append(RuleProblem("exit_year", GENERAL_NO_EXIT_YEAR))
        if _given(values, "exited_class"):
            problems.append(RuleProblem("exited_class", GENERAL_NO_EXITED_CLASS))
    if _given(values, "monitoring_state") and values.get("monitoring_type") == "":
        problems.append(RuleProblem("monitoring_state", STATE_NEEDS_TYPE))
    identified, eliminated = values.get("identified_month"), values.get("eliminated_month")
    if (
        isinstance(identified, str)
        and isinstance(eliminated, str)
        and identified
        and eliminated
        and eliminated < identified
    ):
        problems.append(RuleProblem("eliminated_month", ELIMINATED_BEFORE_IDENTIFIED))
    return problems


def household_cleared(values: Mapping[str, object], *, given: Collection[str]) -> dict[str, object]:
    """The values a writer stores once ``household_problems`` found nothing: for a 一般农户, the 脱贫户-only fields it
    did not give (those outside ``given``: kept from what is stored) are cleared. Returns only the changed fields."""
    if values.get("household_type") != HouseholdType.GENERAL:
        return {}
    return {
        name: blank
        for name, blank in EXITED_ONLY.items()
        if name not in given and name in values and values[name] != blank
    }


def heads_problem(heads: int) -> str | None:
    """The problem with a household of ``heads`` active members whose relation is 户主, or None."""
    if heads == 0:
        return NO_HEAD
    if heads > 1:
        return ONE_HEAD
    return None
