"""Reading and setting policy parameters: the nearest ancestor region's latest value for the year applies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import transaction

from fangfan.core import audit
from fangfan.core.errors import DomainError
from fangfan.regions.codes import ancestors_of

from .models import PolicyValue
from .parameters import PARAMETERS

if TYPE_CHECKING:
    from fangfan.accounts.models import User


def policy_values(*, region_code: str, year: int | None = None) -> dict[str, Decimal]:
    """Every parameter's value for a region and year: the nearest ancestor's latest year ≤ ``year``, else the
    catalogue default."""
    year = year or date.today().year
    chain = [*ancestors_of(region_code), region_code]
    depth = {code: i for i, code in enumerate(chain)}
    best: dict[str, tuple[int, int, Decimal]] = {}
    # Unscoped: the parameters that apply to a place are its own and its ancestors' (published values).
    for key, code, y, value in (
        PolicyValue.objects.unscoped()
        .filter(region_id__in=chain, year__lte=year)
        .values_list("key", "region_id", "year", "value")
    ):
        rank = (depth[code], y)
        if key not in best or rank > best[key][:2]:
            best[key] = (*rank, value)
    return {key: (best[key][2] if key in best else spec.default) for key, spec in PARAMETERS.items()}


def policy_value(key: str, *, region_code: str, year: int | None = None) -> Decimal:
    return policy_values(region_code=region_code, year=year)[key]


def policy_set(*, actor: User, key: str, region_code: str, year: int, value, note: str = "") -> PolicyValue:
    """Set a parameter for a region subtree from a year on. Only inside the actor's jurisdiction."""
    if key not in PARAMETERS:
        raise DomainError(f"未知的政策参数：{key}")
    if not actor.can("policy.edit"):
        raise DomainError("您的角色无权修改政策参数")
    span = actor.jurisdiction_range()
    if span is None or not (span[0] <= region_code < span[1]):
        raise DomainError("只能修改本辖区的政策参数")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise DomainError("参数值应为数字") from None
    if not amount.is_finite() or amount < 0:
        raise DomainError("参数值应为不小于 0 的数字")
    if not 2000 <= int(year) <= 2100:
        raise DomainError("年度应为四位年份")
    with transaction.atomic():
        current, _created = PolicyValue.objects.for_user(actor, "policy.edit").get_or_create(
            key=key,
            region_id=region_code,
            year=year,
            defaults={"value": amount, "note": note, "updated_by": actor},
        )
        before = None if _created else {"value": str(current.value), "note": current.note}
        if not _created:
            current.value, current.note, current.updated_by = amount, note, actor
            current.save(update_fields=["value", "note", "updated_by", "updated_at"])
        audit.record(
            actor,
            "policy.set",
            current,
            before=before,
            after={"value": str(amount), "note": note},
            region_code=region_code,
        )
    return current
