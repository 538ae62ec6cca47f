"""Derived household figures, computed in one place for every writer (edit forms, importer, demo):
家庭人口, 家庭纯收入, 年人均纯收入 (national formula), 三保障 flags, labour capacity, the risks seen in the registry,
and the classification suggestion with its reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pypinyin import Style, lazy_pinyin

from .choices import COMPULSORY_STAGES, WITH_LABOUR, HouseholdType
from .classification import EXITED, GENERAL, HouseholdFacts, IncomeItems, PolicyParams, suggest_classification


def name_initials(name: str) -> str:
    """Pinyin initials for search (张三丰 → zsf); characters without pinyin are kept as they are."""
    return "".join(p[0] for p in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default") if p).lower()[
        :20
    ]


def policy_params(values: dict[str, Decimal]) -> PolicyParams:
    return PolicyParams(
        monitoring_line=values["monitoring_line"],
        provincial_income=values["provincial_income"],
        near_average_ratio=values["near_average_ratio"],
        sudden_hardship_ratio=values["sudden_hardship_ratio"],
        sudden_income_drop_ratio=values["sudden_income_drop_ratio"],
    )


@dataclass(frozen=True)
class MemberFacts:
    """What the household's derived figures need of one active member."""

    birth_date: date
    school_status: str = ""
    not_in_school_reason: str = ""
    serious_illness: bool = False
    disabled: bool = False
    labour_skill: str = ""
    resident_medical: bool | None = None
    employee_medical: bool | None = None
    is_head: bool = False
    name: str = ""


def member_facts(member) -> MemberFacts:
    return MemberFacts(
        birth_date=member.birth_date,
        school_status=member.school_status,
        not_in_school_reason=member.not_in_school_reason,
        serious_illness=member.serious_illness,
        disabled=member.disabled,
        labour_skill=member.labour_skill,
        resident_medical=member.resident_medical,
        employee_medical=member.employee_medical,
        is_head=member.is_head,
        name=member.name,
    )


def age_on_school_day(birth: date, today: date) -> int:
    """Age on 1 September of the current school year (DOMAIN.md §3)."""
    year = today.year if today.month >= 9 else today.year - 1
    sept1 = date(year, 9, 1)
    return sept1.year - birth.year - ((sept1.month, sept1.day) < (birth.month, birth.day))


def compulsory_age(birth: date, today: date, values: dict[str, Decimal]) -> bool:
    age = age_on_school_day(birth, today)
    return int(values["school_age_min"]) <= age < int(values["school_age_max"])


_PARAMS: dict[tuple, PolicyParams] = {}
_NOT_OUT_OF_SCHOOL = frozenset(COMPULSORY_STAGES) | {"普通高中", "中职"}


def _params(values: dict[str, Decimal]) -> PolicyParams:
    """``policy_params`` made once per distinct set of figures (a county import derives 250 000 households under
    a few hundred villages' identical values)."""
    key = (
        values["monitoring_line"],
        values["provincial_income"],
        values["near_average_ratio"],
        values["sudden_hardship_ratio"],
        values["sudden_income_drop_ratio"],
    )
    params = _PARAMS.get(key)
    if params is None:
        if len(_PARAMS) > 1000:
            _PARAMS.clear()
        params = _PARAMS[key] = policy_params(values)
    return params


def derive(
    household, members: Iterable[MemberFacts], values: dict[str, Decimal], *, today: date | None = None
) -> dict:
    """The derived fields of one household, as a dict ready for ``setattr``/``bulk_update``.

    One pass over the members (this runs for every household an import or a recompute touches: 250 000 in a
    county); the rules are those of ``compulsory_age`` and DOMAIN.md §3."""
    today = today or date.today()
    members = list(members)
    size = len(members)
    items = IncomeItems(
        wage=household.wage_income,
        business_income=household.business_income,
        business_expense=household.business_expense,
        property_income=household.property_income,
        transfer_income=household.transfer_income,
        compliant_self_paid=household.compliant_self_paid,
    )
    sept1 = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    age_min, age_max = int(values["school_age_min"]), int(values["school_age_max"])
    out_of_school = uninsured = insured_known = serious = disabled = False
    any_skill = with_labour = False
    head = None
    for m in members:
        birth = m.birth_date
        age = sept1.year - birth.year - ((birth.month, birth.day) > (9, 1))
        if (
            age_min <= age < age_max
            and m.school_status not in _NOT_OUT_OF_SCHOOL
            and not m.not_in_school_reason
        ):
            out_of_school = True
        resident, employee = m.resident_medical, m.employee_medical
        if resident is False and employee is not True:
            uninsured = True
        if resident is not None or employee is not None:
            insured_known = True
        if m.labour_skill:
            any_skill = True
            if m.labour_skill in WITH_LABOUR:
                with_labour = True
        if m.serious_illness:
            serious = True
        if m.disabled:
            disabled = True
        if head is None and m.is_head:
            head = m
    has_labour = with_labour if any_skill else True
    education_secure = None if size == 0 else not out_of_school
    medical_secure = None if not insured_known else not uninsured

    risks: list[str] = []
    if serious:
        risks.append("成员患有大病")
    if disabled:
        risks.append("成员残疾")
    if out_of_school:
        risks.append("义务教育阶段成员未在校")
    if uninsured:
        risks.append("成员未参加基本医疗保险")
    if household.housing_grade in ("C", "D"):
        risks.append(f"住房安全等级为{household.housing_grade}级")
    if household.water_safe is False:
        risks.append("饮水不安全")
    if household.food_clothing_secure is False:
        risks.append("吃穿有困难")
    if not has_labour:
        risks.append("家庭无劳动能力")

    facts = HouseholdFacts.from_income(
        EXITED if household.household_type == HouseholdType.EXITED else GENERAL,
        items,
        size,
        risks=risks,
        previous_per_capita=getattr(household, "_previous_per_capita", None),
        no_labour_capacity=not has_labour,
    )
    suggestion = suggest_classification(facts, _params(values))
    return {
        "size": size,
        "net_income": facts.net_income,
        "per_capita_income": facts.per_capita,
        "education_secure": education_secure,
        "medical_secure": medical_secure,
        "has_labour": has_labour,
        "head_name": head.name if head else "",
        "head_initials": name_initials(head.name) if head else "",
        "suggestion": suggestion.code if suggestion else "",
        "suggestion_reason": (suggestion.reason if suggestion else "")[:300],
    }


DERIVED_FIELDS = [
    "size",
    "net_income",
    "per_capita_income",
    "education_secure",
    "medical_secure",
    "has_labour",
    "head_name",
    "head_initials",
    "suggestion",
    "suggestion_reason",
]
