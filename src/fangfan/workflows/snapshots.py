"""The household as it stood at a decision (DOMAIN.md §1: identification and elimination each keep a snapshot of
income and the 三保障 status): income items, indicators, the members' key facts — age, health, labour, schooling,
never a name or an ID number — and the risks."""

from __future__ import annotations

from datetime import date

from fangfan.registry.models import INCOME_FIELDS, Household, HouseholdSnapshot, Member

INDICATORS = [
    "food_clothing_secure",
    "housing_grade",
    "water_safe",
    "education_secure",
    "medical_secure",
    "has_labour",
]


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def snapshot_take(
    household: Household, *, reason: str, today: date, risk_types: list[str]
) -> HouseholdSnapshot:
    members = [
        {
            "relation": m.relation,
            "age": _age(m.birth_date, today),
            "sex": m.sex,
            "health": m.health,
            "labour_skill": m.labour_skill,
            "school_status": m.school_status,
        }
        for m in household.members.filter(status=Member.Status.ACTIVE).order_by("-is_head", "id")
    ]
    risks = [
        {"risk_type": r.risk_type, "state": r.state, "found_on": r.found_on.isoformat()}
        for r in household.risk_points.order_by("found_on", "id")
    ]
    data = {
        "income": {f: str(getattr(household, f)) for f in INCOME_FIELDS},
        "indicators": {f: getattr(household, f) for f in INDICATORS},
        "members": members,
        "risks": risks,
        "risk_types": list(risk_types),
    }
    return HouseholdSnapshot.objects.create(
        household=household,
        taken_on=today,
        reason=reason,
        size=household.size,
        net_income=household.net_income,
        per_capita_income=household.per_capita_income,
        data=data,
    )
