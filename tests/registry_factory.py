"""Households and members for tests, written straight through the ORM (the importer is tested on its own).

``make_household`` stores members with the same stored ID forms the services use (encrypted value, blind index,
masked form) and computes the derived figures with ``services.household_recompute``.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from fangfan.registry.derive import name_initials
from fangfan.registry.idnumber import check_digit
from fangfan.registry.models import Household, Member
from fangfan.registry.services import health_flags, household_recompute, id_fields

_serial = itertools.count(1)


def make_id(birth: date, *, female: bool = False, region: str = "341523") -> str:
    """A valid 18-character ID number, unique within a test run."""
    seq = (next(_serial) % 500) * 2 + (0 if female else 1)  # the last digit is odd for men, even for women
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_digit(first17)


def make_member(
    household: Household, *, name: str, birth: date, relation: str = "户主", female: bool = False, **fields
) -> Member:
    raw = fields.pop("id_number", None) or make_id(birth, female=female)
    ids = id_fields(raw)
    ids.pop("disability_from_card")
    member = Member(
        household=household,
        name=name,
        name_initials=name_initials(name),
        relation=relation,
        is_head=relation == "户主",
        **ids,
    )
    for key, value in {**health_flags(fields.get("health", "")), **fields}.items():
        setattr(member, key, value)
    member.save()
    return member


def make_household(
    number: str,
    village: str,
    *,
    members: list[tuple] | None = None,
    household_type: str = "general",
    exit_year: int | None = None,
    exited_class: str = "",
    monitoring_type: str = "",
    monitoring_state: str = "",
    income: dict | None = None,
    **fields,
) -> Household:
    """A household with its members: ``members`` is a list of (name, birth date, relation[, extra dict])."""
    income = {
        "wage_income": Decimal("20000"),
        "business_income": Decimal("0"),
        "business_expense": Decimal("0"),
        "property_income": Decimal("0"),
        "transfer_income": Decimal("0"),
        **(income or {}),
    }
    household = Household.objects.create(
        number=number,
        region_id=village,
        household_type=household_type,
        exit_year=exit_year or (2019 if household_type == "exited" else None),
        exited_class=exited_class,
        monitoring_type=monitoring_type,
        monitoring_state=monitoring_state,
        **income,
        **fields,
    )
    for entry in members or [("张三", date(1970, 5, 1), "户主")]:
        name, birth, relation, *rest = entry
        make_member(household, name=name, birth=birth, relation=relation, **(rest[0] if rest else {}))
    return household_recompute(household)
