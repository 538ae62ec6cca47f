"""Households and members for tests, written straight through the ORM (the importer is tested on its own).

``make_household`` stores members with the same stored ID forms the services use (encrypted value, blind index,
masked form) and computes the derived figures with ``services.household_recompute``; ``household`` numbers one for
you (unique in the run) in 东风村 unless told another village.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from conftest import VILLAGE

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


_numbers = itertools.count(1)


def household(
    village: str = VILLAGE, *, number: str | None = None, members: list[tuple] | None = None, **fields
) -> Household:
    """A household of ``village`` with a fresh 户编号 and its members (default: one 户主, 张三); ``fields`` as for
    ``make_household`` (``household_type``, ``monitoring_type``, ``income``, ``phone`` …)."""
    return make_household(number or f"{village}7{next(_numbers):05d}", village, members=members, **fields)


def monitored(village: str = VILLAGE, *, monitoring_type: str = "marginal", **fields) -> Household:
    """A 监测对象 under monitoring (risk not eliminated): a 边缘易致贫户 unless told otherwise; a 脱贫不稳定户 is an
    exited household."""
    if monitoring_type == "unstable":
        fields.setdefault("household_type", "exited")
    return household(village, monitoring_type=monitoring_type, monitoring_state="monitoring", **fields)
